"""Contract fuzzing: schemathesis drives every documented operation in-process (WSGI).

Every operation in `/openapi.json`, with valid and invalid inputs, once as staff and
once as a member, with every built-in check: no 5xx, and status code, content type,
headers and body all as documented. The seed and the number of examples are fixed,
so a run is repeatable; FUZZ_EXAMPLES raises the number for a longer local run.

The cases come from `APIOperation.as_strategy` under Hypothesis's own `@given` rather
than `schemathesis.pytest.from_fixture`, whose test wrapper does not run on pytest 9.
"""

import os

import pytest
import schemathesis
from django.contrib.auth.tokens import default_token_generator
from django.core.wsgi import get_wsgi_application
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from schemathesis import GenerationMode

from posts.models import Post
from posts.tests.factories import PostFactory
from users.models import User
from users.tests.factories import TEST_PASSWORD, UserFactory

from .figures import record
from .test_schema import EXPECTED_OPERATIONS

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = 20261126

ACTORS = {
    "staff": {"is_staff": True, "email": "fuzz-staff@example.com", "name": "Fuzz staff"},
    "member": {"is_staff": False, "email": "fuzz-member@example.com", "name": "Fuzz member"},
}


@pytest.fixture(scope="module")
def api_schema(django_db_blocker):
    """The project's own schema, as the running app serves it."""
    # Django's request_started signal checks the (unused) connection's health.
    with django_db_blocker.unblock():
        return schemathesis.openapi.from_wsgi("/openapi.json", get_wsgi_application())


@pytest.fixture
def fast_limits(settings):
    # Rate limits would turn a long run into 429s, which prove nothing here.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "auth": "1000000/min",
            "user": "1000000/min",
            "account": "1000000/min",
            "account_recovery": "1000000/min",
        },
    }


def steer_valid_case(case, existing_user_id):
    """Make a schema-valid case valid for the data too, where no schema can say how.

    A schema cannot say "an id that exists" or "a password Django's validators accept";
    without this, valid cases would be refused for reasons the check cannot know. Invalid
    cases are left exactly as generated, and unknown ids and weak passwords have their
    own tests.
    """
    if case.meta is None or case.meta.generation.mode != GenerationMode.POSITIVE:
        return
    if not isinstance(case.body, dict):
        return
    if "user_id" in case.body:
        case.body["user_id"] = existing_user_id
    for field in ("password", "new_password"):
        if field in case.body:
            case.body[field] = ("Fuzz-Otter-42-" + case.body[field])[:128]
    # The account endpoints: the caller's own password, refresh token and reset link.
    if "old_password" in case.body:
        case.body["old_password"] = TEST_PASSWORD
    if "refresh" in case.body:
        case.body["refresh"] = str(RefreshToken.for_user(User(pk=existing_user_id)))
    if "uid" in case.body:
        user = User.objects.get(pk=existing_user_id)
        case.body["uid"] = urlsafe_base64_encode(force_bytes(user.pk))
        case.body["token"] = default_token_generator.make_token(user)


def cases_of(operation):
    """Valid and invalid requests for one operation (only valid ones where nothing is
    left to make invalid)."""
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    if operation.path_parameters or operation.query or operation.body:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(strategies)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED_OPERATIONS))
@pytest.mark.parametrize("role", sorted(ACTORS))
def test_operation_honours_its_documented_contract(
    api_schema, role, method, path, transactional_db, fast_limits
):
    actor = UserFactory(**ACTORS[role])
    for author in (actor, UserFactory()):
        PostFactory.create_batch(2, user=author)
    token = str(AccessToken.for_user(actor))
    password_hash = actor.password
    operation = api_schema[path][method.upper()]
    users_before = set(User.objects.values_list("pk", flat=True))
    posts_before = set(Post.objects.values_list("pk", flat=True))

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases_of(operation))
    def fuzz(case):
        # Every example starts from the same rows: what an earlier one created is gone
        # (no accidental duplicate emails), and the caller exists with its role even if
        # an earlier example deleted or renamed it.
        Post.objects.exclude(pk__in=posts_before).delete()
        User.objects.exclude(pk__in=users_before).delete()
        # An earlier password change or logout-all revoked the caller's token and may
        # have changed its password: make both good again.
        User.objects.update_or_create(
            pk=actor.pk,
            defaults={**ACTORS[role], "password": password_hash, "tokens_valid_after": None},
        )
        steer_valid_case(case, actor.pk)
        response = case.call_and_validate(headers={"Authorization": f"Bearer {token}"})
        record("contract", requests=1, **{f"status_{response.status_code // 100}xx": 1})

    fuzz()
    record("contract", operations_fuzzed=1)
