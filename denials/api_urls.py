"""The Denials app's API routes: its one router."""

from rest_framework.routers import SimpleRouter

from denials.api import AppealLetterViewSet, DenialViewSet

router = SimpleRouter()
router.register("denials/letters", AppealLetterViewSet, basename="appeal-letter")
router.register("denials", DenialViewSet, basename="denial")

urlpatterns = router.urls
