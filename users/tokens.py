"""Refresh tokens whose single use the database enforces."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken


class SingleUseRefreshToken(RefreshToken):
    """A refresh token that can be blacklisted once, by whichever caller inserts the row.

    simplejwt 5.5.1 checks the blacklist when the token is read and adds it with
    `get_or_create` later, so concurrent refreshes of one token all pass the check and
    all "blacklist" it: eight parallel refreshes gave four new, independent chains.
    Here the unique constraint on `BlacklistedToken.token` (a OneToOneField) decides:
    PostgreSQL makes every other insert wait for the first one's transaction and then
    refuses it, and the loser is told the token is blacklisted, which by then it is.
    """

    def blacklist(self) -> BlacklistedToken:
        outstanding, _created = self.outstand()
        try:
            with transaction.atomic():
                return BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError:
            raise TokenError(_("Token is blacklisted")) from None
