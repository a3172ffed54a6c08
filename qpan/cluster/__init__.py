"""`qpan cluster`: the production topology on one machine, from pip and Debian packages.

Airflow's CeleryExecutor with a Redis broker (Debian's `redis-server`), the metadata DB and the
Celery result backend on Postgres (database `airflow`, role `airflow`, on the warehouse's
server), and Airflow's own services: scheduler, dag-processor, api-server, triggerer and two
Celery workers with distinct hostnames, all on 127.0.0.1, started in the background; PIDs and
logs under `.qpan/cluster/`. The DAG files are the project's `dags/`, as everywhere else.

- `settings`: ports, paths, secrets and the environment every service shares;
- `metadata`: the `airflow` role and database, `airflow db migrate`;
- `redis`: the broker binary (installed with apt-get when missing, as root) and its command;
- `procs`: start, status and stop of the background processes (process groups, PID files);
- `hostname`: the task instances' hostname is the Celery worker's, not the machine's;
- `cli`: `qpan cluster start|stop|status`.
"""
