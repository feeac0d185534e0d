"""``python -m shared_model.cli``: the lstmgen command line (e.g. under ``torchrun -m``)."""

from shared_model.cli import main

main()
