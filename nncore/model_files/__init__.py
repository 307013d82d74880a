"""What a model file may hold, checked before it is trusted (``serialization.load`` reads
a file through these, in this order):

    description.py   model.json, its length and nesting bounded before it is parsed
    plan.py          the parameter arrays its layers need, from its numbers alone, within
                     the bounds of a run
    metadata.py      its metadata, field by field
    errors.py        ModelFileError: every refusal, one bounded line
"""
