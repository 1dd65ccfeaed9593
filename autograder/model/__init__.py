"""The exercise model: what a spec declares (parameters, questions and their kinds, the slips
behind the known mistakes), the values answers take, and the catalogue of assignments."""
