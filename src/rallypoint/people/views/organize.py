"""Organizer pages: find people, look at one, tag, edit, add contacts, merge."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from rallypoint.core.permissions import organizer_required

from ..forms import ContactAddForm, MergeSearchForm, PeopleSearchForm, PersonEditForm, TagAddForm
from ..hooks import person_page_context
from ..models import EmailAddress, EmailStatus, Person, Tag
from ..queries import (
    merge_candidates,
    people_search,
    person_for_page,
    person_history,
    tag_names,
)
from ..services import (
    email_status_set,
    person_contact_add,
    person_merge,
    person_update,
    tag_add,
    tag_remove,
)

PAGE_SIZE = 25


def _person_or_404(pk: int) -> Person:
    person = person_for_page(pk)
    if person is None:
        raise Http404("No such person.")
    return person


@organizer_required
def person_list(request):
    form = PeopleSearchForm(request.GET or None)
    filters = form.filters() if request.GET else {}
    page = Paginator(people_search(**filters), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort = filters.get("sort", "")
    return render(
        request,
        "people/list.html",
        {
            "form": form,
            "page": page,
            "searching": any(v for k, v in filters.items() if k != "sort"),
            "query_string": query.urlencode(),
            "columns": {key: _sort_column(query, sort, key) for key in ("name", "joined")},
        },
    )


def _sort_column(query, sort: str, key: str) -> dict[str, str]:
    """The link that sorts by `key` (again: the other way) and how the column is sorted now."""
    current = "ascending" if sort == key else "descending" if sort == f"-{key}" else "none"
    if key == "joined" and not sort:
        current = "descending"  # the default order: newest first
    params = query.copy()
    params["sort"] = f"-{key}" if current == "ascending" else key
    return {"url": "?" + params.urlencode(), "aria": current}


def _detail_context(person: Person, **extra):
    return {
        "person": person,
        "timeline": (),
        **person_page_context(person),
        "history": person_history(person),
        "tag_form": TagAddForm(),
        "tag_suggestions": tag_names(),
        "contact_form": ContactAddForm(),
        "email_statuses": EmailStatus.choices,
        **extra,
    }


@organizer_required
def person_detail(request, pk: int):
    person = _person_or_404(pk)
    return render(request, "people/detail.html", _detail_context(person))


def _tags_response(request, person: Person, form: TagAddForm | None = None):
    """htmx swaps just the tag box; without JavaScript the browser goes back to the page."""
    if request.htmx:
        person = _person_or_404(person.pk)
        return render(
            request,
            "people/_tags.html",
            {"person": person, "tag_form": form or TagAddForm(), "tag_suggestions": tag_names()},
        )
    return redirect("people:detail", pk=person.pk)


@organizer_required
@require_POST
def person_tag_add(request, pk: int):
    person = get_object_or_404(Person, pk=pk)
    form = TagAddForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return _tags_response(request, person, form)
        person = _person_or_404(pk)
        return render(
            request, "people/detail.html", _detail_context(person, tag_form=form), status=400
        )
    tag_add(person=person, name=form.cleaned_data["name"], actor=request.user)
    if not request.htmx:
        messages.success(request, f"Tagged “{form.cleaned_data['name']}”.")
    return _tags_response(request, person)


@organizer_required
@require_POST
def person_tag_remove(request, pk: int, tag_id: int):
    person = get_object_or_404(Person, pk=pk)
    tag = get_object_or_404(Tag, pk=tag_id)
    if tag_remove(person=person, tag=tag, actor=request.user) and not request.htmx:
        messages.success(request, f"Removed the tag “{tag.name}”.")
    return _tags_response(request, person)


@organizer_required
def person_edit(request, pk: int):
    person = get_object_or_404(Person, pk=pk)
    form = PersonEditForm(request.POST or None, instance=Person.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in PersonEditForm.Meta.fields}
        person_update(person=person, actor=request.user, **values)
        messages.success(request, "Saved.")
        return redirect("people:detail", pk=person.pk)
    return render(request, "people/edit.html", {"person": person, "form": form})


@organizer_required
@require_POST
def person_contact_add_view(request, pk: int):
    person = get_object_or_404(Person, pk=pk)
    form = ContactAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            person_contact_add(
                person=person,
                actor=request.user,
                email=data.get("email", ""),
                phone=data.get("phone", ""),
                sms_consent=True if data.get("sms_consent") else None,
                postal_code=data.get("postal_code", ""),
                country=data.get("country") or "US",
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Contact details added.")
            return redirect("people:detail", pk=person.pk)
    person = _person_or_404(pk)
    return render(
        request, "people/detail.html", _detail_context(person, contact_form=form), status=400
    )


@organizer_required
@require_POST
def person_email_status(request, pk: int, email_id: int):
    email = get_object_or_404(EmailAddress, pk=email_id, person_id=pk)
    status = request.POST.get("status", "")
    if status not in EmailStatus.values:
        messages.error(request, "Choose one of the listed email statuses.")
        return redirect("people:detail", pk=pk)
    email_status_set(email=email, status=status, actor=request.user)
    messages.success(request, f"{email.address} is now {email.get_status_display().lower()}.")
    return redirect("people:detail", pk=pk)


@organizer_required
def person_merge_pick(request, pk: int):
    person = _person_or_404(pk)
    form = MergeSearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    return render(
        request,
        "people/merge_pick.html",
        {"person": person, "form": form, "q": q, "candidates": merge_candidates(person, q)},
    )


@organizer_required
def person_merge_confirm(request, pk: int, other_pk: int):
    """GET compares both records side by side and changes nothing; the merge needs a POST
    from that page's button (`confirm=merge`)."""
    if pk == other_pk:
        messages.error(request, "Choose two different people to merge.")
        return redirect("people:merge", pk=pk)
    keep = _person_or_404(pk)
    other = _person_or_404(other_pk)
    error = ""
    if request.method == "POST":
        if request.POST.get("confirm") != "merge":
            error = "Press “Merge” on this page to confirm. Nothing was changed."
        else:
            try:
                person_merge(keep=keep, other=other, actor=request.user)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                messages.success(request, f"Merged #{other_pk} into this record. Nothing was lost.")
                return redirect("people:detail", pk=keep.pk)
    return render(
        request,
        "people/merge_confirm.html",
        {
            "keep": keep,
            "other": other,
            "error": error,
            "keep_timeline_count": keep.activities.count(),
            "other_timeline_count": other.activities.count(),
        },
        status=400 if error else 200,
    )
