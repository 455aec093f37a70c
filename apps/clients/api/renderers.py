"""orjson renderer for the client endpoints (the list is the hottest read of the app).

Same output as DRF's JSONRenderer for our payloads (UTF-8, no ASCII escaping); lazy translation
strings and other non-JSON types go through str().
"""

import orjson
from rest_framework.renderers import JSONRenderer


class ORJSONRenderer(JSONRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=str)
