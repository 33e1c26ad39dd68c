from .models import Campaign, CampaignStatus


def live_campaigns():
    return Campaign.objects.filter(status=CampaignStatus.LIVE).order_by("-starts_at", "-created_at")
