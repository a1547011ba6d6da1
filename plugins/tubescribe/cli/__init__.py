"""The command line: the only code that imports typer and rich, and the one place output is rendered.

`app` declares the commands, `runner` runs the DAGs with live progress, `terminal` renders whatever came
from outside (titles, messages, query results) as data: never markup, never control codes.
"""
