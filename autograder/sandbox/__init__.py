"""The sandbox: pre-warmed workers fork a confined child per submission that streams back plain
data, the pool that hosts them and the protocol that checks what comes back.

Imports nothing of the rest of the package (a test walks its imports); the child loads only its
own files, so it never holds a reference, a hidden test or a grading function.
"""
