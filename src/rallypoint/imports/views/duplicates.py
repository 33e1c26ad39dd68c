"""Likely duplicates, a page of groups at a time, and merging the chosen ones."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rallypoint.core.permissions import organizer_required

from ..dedupe import KINDS, duplicate_group_count, duplicate_groups
from ..services import duplicates_merge

GROUPS_PER_PAGE = 20


class _CountOnly:
    """Lets Paginator page through groups without loading them all."""

    def __init__(self, count: int):
        self._count = count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, _):
        return []


@organizer_required
def duplicate_list(request):
    kind = request.GET.get("kind", "phone")
    if kind not in KINDS:
        kind = "phone"
    paginator = Paginator(_CountOnly(duplicate_group_count(kind)), GROUPS_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    groups = []
    if paginator.count:
        groups = duplicate_groups(kind, offset=page.start_index() - 1, limit=GROUPS_PER_PAGE)
    return render(
        request,
        "imports/duplicates.html",
        {
            "kind": kind,
            "kinds": KINDS,
            "page": page,
            "groups": groups,
            "query_string": f"kind={kind}",
        },
    )


def _ints(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


@organizer_required
@require_POST
def duplicate_merge(request):
    chosen = []
    for index in request.POST.getlist("merge"):
        keep = _ints([request.POST.get(f"keep-{index}", "")])
        people = _ints(request.POST.get(f"people-{index}", "").split(","))
        if keep and keep[0] in people and len(people) > 1:
            chosen.append((keep[0], people))
    kind = request.POST.get("kind", "phone")
    if not chosen:
        messages.error(request, "Tick the groups to merge (and who to keep in each) first.")
    else:
        merged, problems = duplicates_merge(groups=chosen, actor=request.user)
        for problem in problems:
            messages.warning(request, problem)
        messages.success(request, f"Merged {merged} duplicate record{'s' if merged != 1 else ''}.")
    kind = kind if kind in KINDS else "phone"
    return redirect(f"{reverse('imports:duplicates')}?kind={kind}")
