from django.http import HttpResponse

from rallypoint.accounts.permissions import organizer_required


def join(request):
    return HttpResponse("join")


@organizer_required
def person_list(request):
    return HttpResponse("people")
