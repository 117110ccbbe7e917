"""Prometheus metrics of one service: requests and latency per route, model load time, queue length."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()  # per app, so two apps in one process never mix counts
        self.requests = Counter("mien_requests", "HTTP requests", ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("mien_request_seconds", "Request latency", ["route"], registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.model_load = Gauge("mien_model_load_seconds", "Time a model or gallery took to load", ["model"],
                                registry=self.registry)
        self.queue = Gauge("mien_queue_length", "Model calls running or waiting", registry=self.registry)
        self.jobs = Gauge("mien_jobs", "Background jobs by state", ["state"], registry=self.registry)

    def loaded(self, model: str, seconds: float) -> None:
        self.model_load.labels(model).set(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
