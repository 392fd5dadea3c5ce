"""The client's address behind TLS proxies or balancers, for django-axes lockouts.

Each trusted proxy appends the address it received the request from to X-Forwarded-For,
so with TRUSTED_PROXY_COUNT proxies in front, the client is that many entries from the
right. Entries further left are whatever the client sent, and are never trusted."""

from django.conf import settings


def client_ip(request) -> str:
    hops = settings.TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")
