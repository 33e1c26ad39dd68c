"""Public pages of an action: the page itself, its embeddable widget, the thank-you page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rallypoint.core.concurrency import write_slot
from rallypoint.mission.hooks import ways_to_help
from rallypoint.sharing.referral import from_query

from .. import spam
from ..forms import SubmissionForm
from ..links import action_share_url, dashboard_url
from ..models import Submission
from ..queries import action_count_forget, action_for_page, action_progress
from ..services import submission_record_together, thank_you_resend


def _action_or_404(request, slug):
    is_organizer = getattr(request.user, "is_organizer", False)
    action = action_for_page(slug, include_drafts=is_organizer)
    if action is None:
        raise Http404("No such action.")
    return action


def _referral(request):
    """The cookie's first touch when there is one; else the ref/ch the form carried along (an
    embedded form gets no cookies, so the iframe passes the host page's ?ref= through)."""
    return getattr(request, "referral", None) or from_query(request.POST) or from_query(request.GET)


def _page_context(request, action, form, *, embedded):
    referral = getattr(request, "referral", None) or from_query(request.GET)
    return {
        "action": action,
        "action_path": reverse("actions:detail", args=[action.slug]),
        "form": form,
        "progress": action_progress(action),
        "embedded": embedded,
        "referral": referral,
        "form_token": spam.embed_token(action.pk) if embedded else "",
    }


def _submit(request, action, *, embedded):
    """The POST of the page and of the widget: honeypot, rate limit, token, then the service."""
    form = SubmissionForm(request.POST, action=action)
    thanks_name = "actions:embed_thanks" if embedded else "actions:thanks"
    if form.honeypot_tripped:
        # Look like success to the robot; store nothing.
        return redirect(reverse(thanks_name, args=[action.slug, "-"]))
    allowed, wait = spam.submission_allowed(request)
    if not allowed:
        minutes = max(1, round(wait / 60))
        response = render(
            request,
            "actions/ratelimited.html",
            {"action": action, "minutes": minutes, "embedded": embedded},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response
    if embedded and not spam.embed_token_valid(request.POST.get("form_token", ""), action.pk):
        form.add_error(None, "This form timed out. Please check your details and send it again.")
    if form.is_valid() and not form.non_field_errors():
        try:
            result = submission_record_together(
                action=action,
                person_data=form.person_data(source=f"{action.kind}: {action.title}"[:200]),
                answers=form.answers(),
                comment=form.cleaned_data.get("comment", ""),
                referral=_referral(request),
                source="embed" if embedded else "page",
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            if result.created:
                action_count_forget(action.pk)
            typed = form.cleaned_data.get("given_name", "")
            token = spam.thanks_token(result.submission.pk, name=typed)
            return redirect(reverse(thanks_name, args=[action.slug, token]))
    template = "actions/embed.html" if embedded else "actions/detail.html"
    return render(request, template, _page_context(request, action, form, embedded=embedded))


# Signatures are written together (services.submission_record_together): the thread that
# writes a batch takes one of the process's write slots for it, so the view takes none.
@require_http_methods(["GET", "HEAD", "POST"])
@write_slot(grouped=True)
def action_detail(request, slug):
    action = _action_or_404(request, slug)
    if request.method == "POST":
        return _submit(request, action, embedded=False)
    form = SubmissionForm(action=action)
    return render(
        request, "actions/detail.html", _page_context(request, action, form, embedded=False)
    )


@csrf_exempt  # see spam.py: the widget proves itself with a signed token instead
@xframe_options_exempt
@require_http_methods(["GET", "HEAD", "POST"])
@write_slot(grouped=True, bare=True)
def action_embed(request, slug):
    action = _action_or_404(request, slug)
    if request.method == "POST":
        return _submit(request, action, embedded=True)
    form = SubmissionForm(action=action)
    return render(
        request, "actions/embed.html", _page_context(request, action, form, embedded=True)
    )


def _thanks_context(request, action, token):
    """The submission behind a thank-you token; "-" is the generic thank-you."""
    context = {
        "action": action,
        "action_path": reverse("actions:detail", args=[action.slug]),
        "progress": action_progress(action),
        "token": token,
    }
    read = spam.thanks_token_read(token) if token != "-" else None
    if read is None:
        return context
    submission_id, typed_name = read
    submission = (
        Submission.objects.select_related("person").filter(pk=submission_id, action=action).first()
    )
    if submission is None:
        return context
    person = submission.person
    context.update(
        submission=submission,
        person=person,
        typed_name=typed_name,
        share_url=action_share_url(action, person),
        dashboard_url=dashboard_url(person),
    )
    if action.campaign_id:
        here = context["action_path"]
        context["ways"] = [w for w in ways_to_help(action.campaign) if w["url"] != here][:6]
    return context


@require_GET
def action_thanks(request, slug, token):
    action = _action_or_404(request, slug)
    return render(request, "actions/thanks.html", _thanks_context(request, action, token))


@xframe_options_exempt
@require_GET
def action_embed_thanks(request, slug, token):
    action = _action_or_404(request, slug)
    context = {**_thanks_context(request, action, token), "embedded": True}
    return render(request, "actions/embed_thanks.html", context)


@require_POST
def action_thanks_email(request, slug, token):
    """ "Email me my links again" on the thank-you page."""
    action = _action_or_404(request, slug)
    context = _thanks_context(request, action, token)
    if "submission" not in context:
        messages.error(request, "That link has expired. Your name is still on the list.")
        return redirect(reverse("actions:detail", args=[slug]))
    allowed, _ = spam.submission_allowed(request)
    if allowed and thank_you_resend(submission=context["submission"]):
        messages.success(request, "Sent. Check your inbox for your links.")
    else:
        messages.info(request, "We already sent your links again. Check your inbox and spam.")
    return redirect(reverse("actions:thanks", args=[slug, token]))


@require_GET
def action_embed_js(request, slug):
    """A script tag for other sites: injects the widget's iframe and sizes it to its content."""
    action = _action_or_404(request, slug)
    origin = f"{request.scheme}://{request.get_host()}"
    response = render(
        request,
        "actions/embed.js",
        {
            "action": action,
            "origin": origin,
            "embed_url": origin + reverse("actions:embed", args=[action.slug]),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def embed_snippets(request, action) -> dict[str, str]:
    origin = f"{request.scheme}://{request.get_host()}"
    embed_url = origin + reverse("actions:embed", args=[action.slug])
    script_url = origin + reverse("actions:embed_js", args=[action.slug])
    return {
        "script": f'<script src="{script_url}" async></script>',
        "iframe": (
            f'<iframe src="{embed_url}" title="{escape(action.title)}" loading="lazy" '
            'style="width:100%;max-width:560px;min-height:640px;border:0"></iframe>'
        ),
    }
