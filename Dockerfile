# One image for the api, worker and ERP simulator services of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY core ./core
COPY planning ./planning
COPY erp ./erp
COPY store ./store
COPY services ./services
COPY workflows ./workflows
COPY activities ./activities
COPY api ./api
COPY cli ./cli
COPY portal ./portal
COPY channels ./channels
COPY worker.py webapp.py ./

# /data: state a service keeps across restarts (the ERP simulator's world), on a volume.
# The workflow package's bytecode is written here: the worker's sandbox re-imports it for
# every workflow run, and PYTHONDONTWRITEBYTECODE would have it compile the source each time.
# postgresql-client: `restock db backup`/`restore` run pg_dump and pg_restore (Debian's 15,
# the PostgreSQL of docker-compose.yml: pg_dump refuses a newer server).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN pip install . \
    && python -c "import compileall, pathlib, workflows; compileall.compile_dir(pathlib.Path(workflows.__file__).parent, quiet=1)" \
    && useradd --create-home restock && mkdir -p /data && chown restock /data
USER restock

EXPOSE 8000 8100
CMD ["restock", "api"]
