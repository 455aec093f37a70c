"""OpenAPI: our JWTAuthentication is simplejwt's bearer scheme (Swagger's "Authorize" → Bearer <access>)."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class JWTScheme(SimpleJWTScheme):
    target_class = "apps.accounts.authentication.JWTAuthentication"
    name = "jwtAuth"
