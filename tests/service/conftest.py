from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from service_helpers import close_service, instructor, make_config, open_service

from grader.service.app import create_app
from grader.service.core import Service


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    svc = open_service(make_config(tmp_path_factory.mktemp("service")))
    yield svc
    close_service(svc)


@pytest.fixture(scope="module")
def client(service: Service):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(create_app(service.config, service), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def prof(service: Service) -> dict[str, str]:
    return instructor(service)
