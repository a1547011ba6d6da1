"""Airflow, and only here: the tasks the DAG files wire (tasks.py), the embedded Airflow the CLI runs them
in (embedded.py), the REST client for a deployed one (remote.py), and the pools both share."""
