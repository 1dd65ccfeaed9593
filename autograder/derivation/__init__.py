"""Derivation: SymPy works every reference answer and every known mistake out of a spec, per
variant, cached; formulas lambdified for many variants at once; per-student variants."""
