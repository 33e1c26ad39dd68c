"""GET /api/v1/insights/spread?campaign=<slug, id or uuid>[&since=YYYY-MM-DD][&until=…]"""

from rallypoint.insights.queries import campaign_by_key
from rallypoint.insights.services.grid import WindowError, spread_report, window_parse

from ..errors import BadRequest, NotFound
from ..hal import HalResponse
from ..resources.insights import spread_repr
from .base import Endpoint


class SpreadView(Endpoint):
    http_method_names = ["get", "head", "options"]

    def get(self, request):
        key = request.GET.get("campaign", "").strip()
        if not key:
            raise BadRequest(
                "Name the campaign: ?campaign=<its slug, id or uuid>.", field="campaign"
            )
        campaign = campaign_by_key(key)
        if campaign is None:
            raise NotFound("Couldn't find a campaign with that slug, id or uuid.")
        try:
            window = window_parse(request.GET.get("since"), request.GET.get("until"))
        except WindowError as exc:
            raise BadRequest(str(exc), field=exc.field) from None
        return HalResponse(spread_repr(spread_report(campaign, window), self.links))
