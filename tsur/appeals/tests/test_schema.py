"""The OpenAPI schema says what the API answers: mismatches the fuzzer found (issue 15)."""

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def response_of(schema, path, method):
    body = schema["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    return body


@pytest.mark.parametrize(
    ("path", "method", "item"),
    [
        ("/api/v1/appeals/{number}/timeline/", "get", "AppealEvent"),
        ("/api/v1/appeals/{number}/similar/", "get", "SimilarAppeal"),
        ("/api/v1/appeals/nearby/", "post", "NearbyAppeal"),
        ("/api/v1/complaint-tickets/effectiveness/", "get", "Effectiveness"),
    ],
)
def test_actions_answering_a_whole_list_are_described_as_one(schema, path, method, item):
    """They were described as a page of results (`count`, `results`) taking the list's filters."""
    operation = schema["paths"][path][method]

    assert response_of(schema, path, method) == {
        "type": "array",
        "items": {"$ref": f"#/components/schemas/{item}"},
    }
    assert [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"] == []


def test_resident_contacts_in_the_complaint_book_may_be_null_in_answers_only(schema):
    """Readers without the right get null (tsur.appeals.policies); the schema said «string»."""
    components = schema["components"]["schemas"]

    for name in ("citizen_name", "citizen_phone"):
        assert components["ComplaintTicket"]["properties"][name]["nullable"] is True
        assert "nullable" not in components["ComplaintTicketRequest"]["properties"][name]
