"""Images uploaded for mailings: checked, re-encoded without metadata, served for a long life."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from rallypoint.messaging.models import MailImage
from rallypoint.messaging.services.compose import body_sanitize

pytestmark = pytest.mark.django_db

UPLOAD = reverse("messaging:image_upload")


def picture(kind="PNG", size=(40, 30), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "red" if mode == "RGB" else 0).save(out, format=kind, **save)
    return out.getvalue()


def upload(client, data: bytes, name="photo.png", content_type="image/png"):
    return client.post(UPLOAD, {"image": SimpleUploadedFile(name, data, content_type)})


def served(client, url: str):
    return client.get(url.removeprefix("http://testserver"))


def test_an_uploaded_image_gets_an_address_that_serves_it(organizer_client, settings):
    settings.SITE_URL = "https://act.example.org"
    answer = upload(organizer_client, picture())
    assert answer.status_code == 201
    body = answer.json()
    assert (body["width"], body["height"]) == (40, 30)
    assert body["url"].startswith("https://act.example.org/mail/m/i/")
    assert body["url"].endswith(".png")
    path = body["url"].removeprefix("https://act.example.org")
    response = organizer_client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "immutable" in response["Cache-Control"]
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as back:
        assert back.size == (40, 30)
    # Anyone may load it (a mail client has no login).
    organizer_client.logout()
    assert organizer_client.get(path).status_code == 200


def test_a_photo_loses_its_camera_details_and_is_turned_upright(organizer_client):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotated 90° clockwise
    exif[0x010F] = "PhoneMaker"  # camera make
    exif[0x8825] = {1: "N", 2: (40.0, 42.0, 51.0)}  # a GPS position
    answer = upload(organizer_client, picture("JPEG", (60, 20), exif=exif), "me.jpg", "image/jpeg")
    assert answer.status_code == 201
    stored = MailImage.objects.get()
    with stored.file.open("rb") as handle, Image.open(handle) as back:
        assert back.format == "JPEG"
        assert back.size == (20, 60)  # turned upright
        assert dict(back.getexif()) == {}


def test_a_wide_image_is_scaled_to_twice_a_mail_column(organizer_client):
    answer = upload(organizer_client, picture("PNG", (3000, 1000)))
    assert (answer.json()["width"], answer.json()["height"]) == (1200, 400)


def test_an_animated_gif_is_kept_as_it_is(organizer_client):
    frames = [Image.new("P", (10, 10), colour) for colour in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    answer = upload(organizer_client, out.getvalue(), "wave.gif", "image/gif")
    assert answer.status_code == 201
    assert b"".join(served(organizer_client, answer.json()["url"]).streaming_content) == (
        out.getvalue()
    )


@pytest.mark.parametrize(
    ("data", "name", "says"),
    [
        (b"just text, named like a picture", "photo.png", "not an image we can use"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "logo.svg",
            "not an image we can use",
        ),
        (picture("PNG")[:60], "cut.png", "could not be read to the end"),
        (picture("BMP"), "old.bmp", "BMP images can't go into mail"),
        (picture("PNG", (8000, 6000), mode="1"), "huge.png", "too large to send"),
    ],
)
def test_what_is_not_a_usable_image_is_refused_with_its_reason(organizer_client, data, name, says):
    answer = upload(organizer_client, data, name)
    assert answer.status_code == 400
    assert says in answer.json()["error"]
    assert not MailImage.objects.exists()


def test_a_file_over_the_limit_is_refused_with_the_limit(organizer_client, settings):
    settings.MAILING_IMAGE_MAX_BYTES = 1024
    answer = upload(organizer_client, picture("PNG", (300, 300), mode="RGB") + b"\0" * 2048)
    assert answer.status_code == 400
    assert "; the limit is 1.0\xa0KB. Save it smaller" in answer.json()["error"]
    assert not MailImage.objects.exists()


def test_no_file_is_a_clear_error(organizer_client):
    answer = organizer_client.post(UPLOAD, {})
    assert (answer.status_code, answer.json()["error"]) == (400, "Choose an image to upload.")


@pytest.mark.parametrize(
    "name", ["nope", "not-a-uuid.png", "0f8fad5b-d9cb-469f-a165-70867728950e.png"]
)
def test_an_unknown_image_is_not_found(client, name):
    assert client.get(reverse("messaging:image", kwargs={"name": name})).status_code == 404


def test_the_address_with_another_extension_is_not_found(organizer_client):
    url = upload(organizer_client, picture()).json()["url"]
    assert served(organizer_client, url.replace(".png", ".gif")).status_code == 404


def test_an_uploaded_image_survives_the_body_sanitiser(organizer_client):
    url = upload(organizer_client, picture()).json()["url"]
    html = body_sanitize(f'<p>Look</p><p><img src="{url}" alt="Our rally"></p>')
    assert f'src="{url}"' in html
    assert 'alt="Our rally"' in html


def test_a_body_plainly_over_the_limit_is_refused_before_it_is_read(organizer_client, settings):
    settings.MAILING_IMAGE_MAX_BYTES = 1024
    big = picture("PNG", (10, 10)) + b"\0" * (200 * 1024)
    answer = upload(organizer_client, big)
    assert answer.status_code == 400
    assert answer.json()["error"] == "This image is too big; the limit is 1.0\xa0KB."
    assert not MailImage.objects.exists()
