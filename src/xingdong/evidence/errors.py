"""Errors of the evidence domain. Each detail says what is accepted, so a person knows
what to upload instead."""

from __future__ import annotations

from xingdong.core.errors import Forbidden, NotFound, ValidationFailed
from xingdong.core.i18n import N_


class NotAnImage(ValidationFailed):
    status = 415
    code = "not_an_image"
    title = N_("The file is not an image")


class UnsupportedImageType(ValidationFailed):
    status = 415
    code = "unsupported_image_type"
    title = N_("This kind of image is not accepted")


class FileTooLarge(ValidationFailed):
    status = 413
    code = "file_too_large"
    title = N_("The file is too large")


class ImageTooLargeInPixels(ValidationFailed):
    code = "image_too_large_in_pixels"
    title = N_("The image has too many pixels")


class CorruptImage(ValidationFailed):
    code = "corrupt_image"
    title = N_("The image is damaged")


class NotAVideo(ValidationFailed):
    status = 415
    code = "not_a_video"
    title = N_("The file is not a video we accept")


class EvidenceNotFound(NotFound):
    code = "evidence_not_found"
    title = N_("No such evidence file")


class EvidenceWithheld(Forbidden):
    code = "evidence_withheld"
    title = N_("This file is shown to the platform's reviewers only")
