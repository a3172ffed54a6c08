"""Orchestration: `qpan run`, the DAG runs and their logs, Airflow's environment and local runner, backups."""
