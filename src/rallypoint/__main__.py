"""The `rallypoint` command: Django's manage.py under the project's name."""

import os
import signal
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line([os.path.basename(sys.argv[0]) or "rallypoint", *sys.argv[1:]])
    except KeyboardInterrupt:
        # Ctrl+C (while `make run` migrates, loads the demo or starts serving): a short word,
        # not a traceback of wherever Python happened to be; then end by SIGINT, as the shell
        # and make expect of an interrupted program.
        sys.stderr.write("\nInterrupted.\n")
        sys.stderr.flush()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)


if __name__ == "__main__":
    main()
