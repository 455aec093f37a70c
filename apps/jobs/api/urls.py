from django.urls import path

from apps.jobs.api.views import JobProgressView

urlpatterns = [
    path("jobs/<int:id>/", JobProgressView.as_view(), name="job-progress"),
]
