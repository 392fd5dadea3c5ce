"""gunicorn settings: `gunicorn kzarchive.wsgi` reads this file from the working directory."""

import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = 30  # a search is bounded at 5 s by its statement timeout; nothing else should be slow
graceful_timeout = 20
keepalive = 5
max_requests = 2000  # recycle workers now and then
max_requests_jitter = 200
# Worker heartbeats in memory: on a container's overlay filesystem they can stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
