"""Role-based access control, answering as StackStorm's RBAC backend (`st2-rbac-backend`) does.

RBAC is on when the server is given `roles` (user -> role names). The system roles decide everything:
`system_admin` and `admin` may do anything, `observer` may view and list anything. Any other role
name is a role without permission grants: it grants nothing but counts for an inquiry's `roles`.
A user without roles may only authenticate and ask who they are (and use their own user-scope keys).
With RBAC off every user is an admin, as with st2's default `noop` backend.

Checks raise `ApiError(403)` with the `faultstring` of st2's `AccessDeniedError` family.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .util import ApiError

# st2common.rbac.types.SystemRole
SYSTEM_ADMIN = "system_admin"
ADMIN = "admin"
OBSERVER = "observer"
ADMIN_ROLES = frozenset({SYSTEM_ADMIN, ADMIN})
SYSTEM_ROLES = ADMIN_ROLES | {OBSERVER}
# Permission names the observer role holds on every resource (`READ_PERMISSION_NAMES`).
READ_PERMISSION_NAMES = frozenset({"view", "list", "search"})

# st2common.rbac.types.PermissionType values the demo's endpoints check.
ACTION_LIST = "action_list"
ACTION_VIEW = "action_view"
ACTION_EXECUTE = "action_execute"
API_KEY_LIST = "api_key_list"
API_KEY_VIEW = "api_key_view"
API_KEY_CREATE = "api_key_create"
API_KEY_MODIFY = "api_key_modify"
API_KEY_DELETE = "api_key_delete"
EXECUTION_LIST = "execution_list"
EXECUTION_VIEW = "execution_view"
EXECUTION_STOP = "execution_stop"
EXECUTION_VIEWS_FILTERS_LIST = "execution_views_filters_list"
INQUIRY_LIST = "inquiry_list"
INQUIRY_VIEW = "inquiry_view"
INQUIRY_RESPOND = "inquiry_respond"
KEY_VALUE_PAIR_LIST = "key_value_pair_list"
KEY_VALUE_PAIR_VIEW = "key_value_pair_view"
KEY_VALUE_PAIR_SET = "key_value_pair_set"
KEY_VALUE_PAIR_DELETE = "key_value_pair_delete"
PACK_LIST = "pack_list"
PACK_VIEW = "pack_view"
RULE_LIST = "rule_list"
RULE_VIEW = "rule_view"
RULE_CREATE = "rule_create"
RULE_MODIFY = "rule_modify"
RULE_DELETE = "rule_delete"
RULE_ENFORCEMENT_LIST = "rule_enforcement_list"
RULE_ENFORCEMENT_VIEW = "rule_enforcement_view"
RUNNER_TYPE_LIST = "runner_type_list"
RUNNER_TYPE_VIEW = "runner_type_view"
STREAM_VIEW = "stream_view"
WEBHOOK_LIST = "webhook_list"
WEBHOOK_VIEW = "webhook_view"
WEBHOOK_SEND = "webhook_send"

# `GLOBAL_PERMISSION_TYPES` (with every `*_list`): permissions on no particular resource, so their
# 403 names none.
GLOBAL_PERMISSIONS = frozenset(
    {
        "pack_install",
        "pack_uninstall",
        "pack_create",
        "pack_register",
        "pack_config",
        "pack_search",
        "pack_views_index_health",
        "action_alias_match",
        "action_alias_help",
        API_KEY_CREATE,
        "policy_create",
        EXECUTION_VIEWS_FILTERS_LIST,
        STREAM_VIEW,
        INQUIRY_LIST,
        INQUIRY_RESPOND,
        INQUIRY_VIEW,
    }
)

USER_SCOPE = "st2kv.user"


@dataclass(frozen=True)
class Principal:
    """Who made a request, how, and with which roles (what `GET /api/v1/user` reports)."""

    user: str
    method: str  # "authentication token" | "API key"
    location: str  # "header" | "query" | "cookie"
    token_expire: str | None = None
    rbac_enabled: bool = False
    roles: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        # With RBAC off every user is an admin (st2's noop backend).
        return not self.rbac_enabled or is_admin(self.roles)


def permission_name(permission: str) -> str:
    """`action_execute` -> `execute` (`PermissionType.get_permission_name`)."""
    if permission == "pack_views_index_health":
        return "views_index_health"
    return permission.rsplit("_", 1)[-1]


def roles_grant(roles: Iterable[str], permission: str) -> bool:
    """Whether system roles give `permission` (`_user_has_system_role_permission`)."""
    names = set(roles)
    if names & ADMIN_ROLES:
        return True
    return OBSERVER in names and permission_name(permission) in READ_PERMISSION_NAMES


def is_admin(roles: Iterable[str]) -> bool:
    return bool(ADMIN_ROLES.intersection(roles))


def denied(user: str, permission: str, uid: str | None = None) -> ApiError:
    """`ResourceAccessDeniedError` (with a resource) or `ResourceTypeAccessDeniedError` (without)."""
    message = f'User "{user}" doesn\'t have required permission "{permission}"'
    if uid and permission not in GLOBAL_PERMISSIONS and not permission.endswith("_list"):
        message += f' on resource "{uid}"'
    return ApiError(403, message)


def require(principal: Principal, permission: str, uid: str | None = None) -> None:
    """Refuse the request unless the user's roles give `permission` (on the resource `uid`)."""
    if principal.rbac_enabled and not roles_grant(principal.roles, permission):
        raise denied(principal.user, permission, uid)


def require_key(principal: Principal, permission: str, scope: str, ref: str) -> None:
    """`KeyValuePermissionsResolver`: a user's own user-scope keys are always theirs; every other key
    (system scope, another user's) needs the permission from a system role."""
    if not principal.rbac_enabled:
        return
    if scope == USER_SCOPE and ref.startswith(f"{principal.user}:"):
        return
    if not roles_grant(principal.roles, permission):
        raise denied(principal.user, permission, f"key_value_pair:{scope}:{ref}")


def require_admin(principal: Principal, message: str) -> None:
    """An admin-only option (`AccessDeniedError` with the option's own message)."""
    if not principal.is_admin:
        raise ApiError(403, message)


def require_admin_for_user(principal: Principal, user: str, *, require_rbac: bool = False) -> None:
    """`assert_user_is_admin_if_user_query_param_is_provided`: acting for another user needs admin.

    With `require_rbac` (the datastore) st2 refuses another user outright while RBAC is off.
    """
    if user == principal.user:
        return
    if not principal.rbac_enabled:
        if require_rbac:
            raise ApiError(403, '"user" attribute can only be provided by admins when RBAC is enabled')
        return
    if not principal.is_admin:
        raise ApiError(403, '"user" attribute can only be provided by admins')


def has_system_role(principal: Principal) -> bool:
    """`user_has_system_role`: holds `system_admin`, `admin` or `observer` (everyone, with RBAC off)."""
    return not principal.rbac_enabled or bool(SYSTEM_ROLES.intersection(principal.roles))
