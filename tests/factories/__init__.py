"""Factories: real rows through the real services, with sensible defaults; one module a domain."""

from tests.factories.people import PASSWORD, child, group, organisation, user

__all__ = ["PASSWORD", "child", "group", "organisation", "user"]
