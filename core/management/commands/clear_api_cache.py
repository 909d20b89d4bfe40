"""`manage.py clear_api_cache`: drop every cached API page."""

from django.core.management.base import BaseCommand, CommandError

from core import cache as api_cache


class Command(BaseCommand):
    help = "Drop every cached API response (through the one invalidation function)."

    def handle(self, *args, **options):
        if not api_cache.invalidate_all():
            raise CommandError("The cache is unreachable; nothing was cleared.")
        self.stdout.write(self.style.SUCCESS("API cache cleared."))
