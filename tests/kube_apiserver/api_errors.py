"""Kubernetes `Status` errors, shaped like k8s.io/apimachinery/pkg/api/errors.

Every failure the test API server returns goes through ApiError so that clients see the
same kind/reason/code/details/message the real kube-apiserver would send.
"""


class ApiError(Exception):
    def __init__(self, code, reason, message, details=None, headers=None, list_meta=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.list_meta = list_meta

    def status(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": dict(self.list_meta or {}),
                "status": "Failure", "message": self.message}
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body


def _details(name="", group="", kind="", uid="", causes=None, retry_after=0):
    d = {}
    if name:
        d["name"] = name
    if group:
        d["group"] = group
    if kind:
        d["kind"] = kind
    if uid:
        d["uid"] = uid
    if causes:
        d["causes"] = causes
    if retry_after:
        d["retryAfterSeconds"] = retry_after
    return d


def group_resource(group, resource):
    """schema.GroupResource.String(): "deployments.apps", or "configmaps" for the core group."""
    return f"{resource}.{group}" if group else resource


def not_found(group, resource, name):
    return ApiError(404, "NotFound", f'{group_resource(group, resource)} "{name}" not found',
                    _details(name, group, resource))


def route_not_found():
    # What the real server sends for a path no handler serves.
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(group, resource, name):
    return ApiError(409, "AlreadyExists",
                    f'{group_resource(group, resource)} "{name}" already exists',
                    _details(name, group, resource))


def conflict(group, resource, name, why):
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {group_resource(group, resource)} '
                    f'"{name}": {why}', _details(name, group, resource))


MODIFIED_CONFLICT = ("the object has been modified; please apply your changes to the latest "
                     "version and try again")


class FieldError:
    """One field.Error: `path: Type: detail` as printed by k8s.io/apimachinery/.../field."""

    REASONS = {"Required value": "FieldValueRequired", "Invalid value": "FieldValueInvalid",
               "Unsupported value": "FieldValueNotSupported", "Forbidden": "FieldValueForbidden",
               "Duplicate value": "FieldValueDuplicate", "Too long": "FieldValueTooLong"}

    def __init__(self, field, type_, detail="", value=None, has_value=False):
        self.field, self.type, self.detail = field, type_, detail
        self.value, self.has_value = value, has_value

    def body(self):
        s = self.type
        if self.has_value:
            s += ": " + go_value(self.value)
        if self.detail:
            s += ": " + self.detail
        return s

    def __str__(self):
        return f"{self.field}: {self.body()}"


def required(field, detail=""):
    return FieldError(field, "Required value", detail)


def invalid_value(field, value, detail):
    return FieldError(field, "Invalid value", detail, value, True)


def forbidden_field(field, detail):
    return FieldError(field, "Forbidden", detail)


def go_value(v):
    """Approximates Go's %#v for the values field errors quote."""
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, dict) and all(isinstance(x, str) for x in v.values()):
        inner = ", ".join(f"{go_value(k)}:{go_value(x)}" for k, x in sorted(v.items()))
        return "map[string]string{" + inner + "}"
    return str(v)


def invalid(kind, group, name, errors):
    """NewInvalid: 422, one cause per field error; `Kind.group "name" is invalid: ...`."""
    qualified = f"{kind}.{group}" if group else kind
    errs = [str(e) for e in errors]
    agg = errs[0] if len(errs) == 1 else "[" + ", ".join(errs) + "]"
    causes = [{"reason": FieldError.REASONS.get(e.type, "FieldValueInvalid"), "message": e.body(),
               "field": e.field} for e in errors]
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {agg}',
                    _details(name, group, kind, causes=causes))


def bad_request(message):
    return ApiError(400, "BadRequest", message)


def unprocessable(server_message):
    # NewGenericServerResponse(422, ...), used for json-patch application failures.
    return ApiError(422, "Invalid",
                    "the server rejected our request due to an error in our request",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": server_message}]})


def method_not_allowed():
    return ApiError(405, "MethodNotAllowed",
                    "the server does not allow this method on the requested resource", {})


def expired(message, list_meta=None):
    return ApiError(410, "Expired", message, list_meta=list_meta)


def too_old_rv(rv, oldest):
    return expired(f"too old resource version: {rv} ({oldest})")


def unsupported_media_type(accepted):
    return ApiError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types "
                    "include: " + ", ".join(accepted))


def not_acceptable(accepted):
    return ApiError(406, "NotAcceptable",
                    "only the following media types are accepted: " + ", ".join(accepted))


def unauthorized():
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(group, resource, name, why):
    if not resource:
        message = f"forbidden: {why}"
    elif name:
        message = f'{group_resource(group, resource)} "{name}" is forbidden: {why}'
    else:
        message = f"{group_resource(group, resource)} is forbidden: {why}"
    return ApiError(403, "Forbidden", message, _details(name, group, resource))


def internal(message):
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})


def too_large(limit):
    return ApiError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}")


def too_large_rv(requested, current):
    return ApiError(504, "Timeout", f"Too large resource version: {requested}, current: {current}",
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})


def from_code(code, message, group="", resource="", name=""):
    """A Status for any code, as NewGenericServerResponse builds it (fault injection)."""
    if code == 403:
        return forbidden(group, resource, name, message)
    if code == 404:
        return ApiError(404, "NotFound", message, _details(name, group, resource))
    if code == 409:
        return conflict(group, resource, name, message)
    if code == 410:
        return expired(message)
    if code == 429:
        return ApiError(429, "TooManyRequests", message, _details(retry_after=1),
                        {"Retry-After": "1"})
    if code == 500:
        return internal(message)
    if code == 503:
        return ApiError(503, "ServiceUnavailable", message, _details(retry_after=1),
                        {"Retry-After": "1"})
    if code == 504:
        return ApiError(504, "Timeout", message, _details(retry_after=1))
    reasons = {400: "BadRequest", 401: "Unauthorized", 405: "MethodNotAllowed",
               406: "NotAcceptable", 413: "RequestEntityTooLarge", 415: "UnsupportedMediaType",
               422: "Invalid"}
    return ApiError(code, reasons.get(code, ""), message, _details(name, group, resource))
