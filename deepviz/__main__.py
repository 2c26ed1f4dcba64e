"""`python -m deepviz` is the `deepviz` command."""
from deepviz.cli import main

main()
