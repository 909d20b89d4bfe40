"""Give .env a generated DJANGO_SECRET_KEY unless it has a usable one.

Used by `make run` and `make compose-up` so a fresh clone serves with debug off and a
real, local key. .env is created from .env.example when missing. An existing .env keeps
its key unless the app would refuse it (empty, a placeholder, too short: see
core/secret_key.py); then only that line is replaced.
"""

import re
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from core.secret_key import secret_key_problem  # noqa: E402 - needs the path above


def main() -> int:
    dotenv = BASE_DIR / ".env"
    text = dotenv.read_text() if dotenv.exists() else (BASE_DIR / ".env.example").read_text()
    key_line = re.compile(r"^DJANGO_SECRET_KEY=(.*)$", re.MULTILINE)
    match = key_line.search(text)
    current = match.group(1).strip().strip("\"'") if match else ""
    problem = secret_key_problem(current)
    if dotenv.exists() and not problem:
        return 0
    line = f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}"
    text = key_line.sub(line, text) if match else f"{line}\n{text}"
    dotenv.write_text(text)
    dotenv.chmod(0o600)
    why = f" (the key there {problem})" if current else ""
    print(f"wrote a generated DJANGO_SECRET_KEY to .env{why}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
