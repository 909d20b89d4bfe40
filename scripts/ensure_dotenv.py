"""Create .env from .env.example with a generated DJANGO_SECRET_KEY, once.

Used by `make run` so a fresh clone serves with debug off and a real, local key.
An existing .env that already has a key is left untouched.
"""

import re
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    dotenv = BASE_DIR / ".env"
    text = dotenv.read_text() if dotenv.exists() else (BASE_DIR / ".env.example").read_text()
    key_line = re.compile(r"^DJANGO_SECRET_KEY=(.*)$", re.MULTILINE)
    match = key_line.search(text)
    if dotenv.exists() and match and match.group(1).strip():
        return 0
    line = f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}"
    text = key_line.sub(line, text) if match else f"{line}\n{text}"
    dotenv.write_text(text)
    dotenv.chmod(0o600)
    print("wrote .env with a generated DJANGO_SECRET_KEY", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
