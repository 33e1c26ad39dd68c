from django_tasks import task

from .mail import email_send_now


@task()
def send_email(message_id: int) -> bool:
    return email_send_now(message_id)
