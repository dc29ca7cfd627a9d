"""Settings of the perception service, read from `LONGWATCH_PERCEPTION_*` (and the shared `LONGWATCH_*`)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import SettingsConfigDict

from longwatch.settings import (
    DEFAULT_MEMORY_PORT,
    DEFAULT_PERCEPTION_PORT,
    MEMORY_ADDR_ENV,
    CommonSettings,
    default_address,
)
from longwatch.validation import MAX_SAMPLE_FPS, MIN_SAMPLE_FPS
from perception.core.keyframes import MAX_KEYFRAMES_PER_CLIP

# Must list the names in perception.core.encoders.ENCODERS and perception.core.captioners.CAPTIONERS
# (a unit test checks they agree).
EncoderName = Literal["pixel-stats", "hf-clip", "tiny-clip"]
CaptionerName = Literal["ocr", "vlm", "tiny-vlm"]


class PerceptionSettings(CommonSettings):
    model_config = SettingsConfigDict(
        env_prefix="LONGWATCH_PERCEPTION_", extra="forbid", populate_by_name=True, frozen=True
    )

    port: int = Field(DEFAULT_PERCEPTION_PORT, ge=1, le=65535, description="gRPC port to listen on")
    metrics_port: int = Field(0, ge=0, le=65535, description="port of the Prometheus /metrics endpoint; 0 = off")
    memory_addr: str = Field(
        default_address(DEFAULT_MEMORY_PORT),
        min_length=1,
        # Its own variable first, else the one every client reads (the launcher sets that one).
        validation_alias=AliasChoices("LONGWATCH_PERCEPTION_MEMORY_ADDR", MEMORY_ADDR_ENV),
        description="host:port of the memory service",
    )
    max_streams: int = Field(64, ge=1, le=10_000, description="streams watched at once; more are refused")

    # Sampling, frame cache and clips.
    sample_fps: float = Field(
        1.0, ge=MIN_SAMPLE_FPS, le=60, description="frames per second sampled when AddStream gives 0"
    )
    max_sample_fps: float = Field(
        30.0, ge=MIN_SAMPLE_FPS, le=MAX_SAMPLE_FPS, description="highest sample_fps an AddStream may ask for"
    )
    thumbnail_width_px: int = Field(
        64, ge=8, le=512, description="width of the grey thumbnail the scene-change and cache tests compare"
    )
    pixel_change_levels: int = Field(
        12, ge=1, le=255, description="grey levels a thumbnail pixel must move by to count as changed (above noise)"
    )
    scene_change_fraction: float = Field(
        0.02, gt=0, le=1, description="fraction of thumbnail pixels changed that makes a scene change"
    )
    scene_min_interval_s: float = Field(
        0.5, ge=0, le=60, description="least seconds between an extra scene-change sample and the last sample"
    )
    cache_max_changed_fraction: float = Field(
        0.001, ge=0, le=1, description="at most this fraction of thumbnail pixels changed to reuse cached features"
    )
    clip_max_s: float = Field(4.0, gt=0, le=600, description="longest clip, in seconds of stream time")
    max_frame_side_px: int = Field(
        1280, ge=64, le=8192, description="decoded frames are scaled down so their longer side is at most this"
    )

    # Keyframes: JPEGs memory stores with each clip. At one clip every ~4 s, 480 px at quality 75 is
    # 20-40 KB a keyframe, inside a stream's storage budget of 50 MB an hour.
    keyframes_per_clip: int = Field(
        1,
        ge=0,
        le=MAX_KEYFRAMES_PER_CLIP,
        description="JPEG keyframes sent with each clip (1 = the most representative frame, more = spread over "
        "the clip; frames showing the same cached image count once); 0 = none",
    )
    keyframe_max_side_px: int = Field(
        480, ge=32, le=4096, description="keyframes are scaled down so their longer side is at most this, in pixels"
    )
    keyframe_jpeg_quality: int = Field(
        75, ge=1, le=95, description="JPEG quality of keyframes (1-95; above 95 grows the file, not the detail)"
    )

    # Queues.
    frame_queue_size: int = Field(8, ge=1, le=10_000, description="sampled frames waiting for the encoder")
    max_unacked_clips: int = Field(
        32, ge=1, le=100_000, description="clips of one stream sent to memory and not yet acknowledged"
    )

    # Models.
    encoder: EncoderName | None = Field(
        None, description="vision encoder; None = the profile's default (tiny→hf-clip, cpu→pixel-stats, gpu→hf-clip)"
    )
    encoder_model: str = Field(
        "google/siglip-base-patch16-224",
        min_length=1,
        description="Hugging Face id or local path of a CLIP/SigLIP, for the hf-clip encoder (gpu profile)",
    )
    encoder_device: str | None = Field(
        None, description="torch device for the encoder (cpu, cuda, cuda:1); None = CUDA when available"
    )
    captioner: CaptionerName | None = Field(
        None, description="captioner; None = the profile's default (tiny→vlm, cpu→ocr, gpu→vlm)"
    )
    captioner_model: str = Field(
        "HuggingFaceTB/SmolVLM2-256M-Video-Instruct",
        min_length=1,
        description="Hugging Face id or local path of an image-text-to-text VLM, for the vlm captioner (gpu profile)",
    )
    captioner_device: str | None = Field(
        None, description="torch device for the VLM (cpu, cuda, cuda:1); None = CUDA when available"
    )
    ocr_min_confidence: float = Field(0.7, ge=0, le=1, description="on-screen text lines read with less are dropped")
    ocr_min_side_px: int = Field(
        720, ge=0, le=4096, description="frames whose shorter side is smaller are upscaled to it before OCR; 0 = never"
    )
    vlm_prompt: str = Field(
        "Describe what happens in these frames in one sentence, and read any text on screen.",
        min_length=1,
        description="instruction the VLM captions each clip with",
    )
    vlm_max_frames: int = Field(4, ge=1, le=64, description="distinct frames of a clip shown to the VLM")
    vlm_max_new_tokens: int = Field(48, ge=1, le=1024, description="tokens the VLM may generate per caption")

    # Live sources.
    live_open_timeout_s: float = Field(10.0, gt=0, le=600, description="seconds to connect to a live source")
    live_read_timeout_s: float = Field(10.0, gt=0, le=600, description="seconds without data before a read fails")
    live_retry_initial_s: float = Field(1.0, gt=0, le=600, description="first reconnect delay; doubles per failure")
    live_retry_max_s: float = Field(30.0, gt=0, le=3600, description="longest reconnect delay")
    watchdog_stall_s: float = Field(
        60.0, gt=0, le=3600, description="a live decoder silent this long (no frame, no retry) is restarted"
    )

    # Memory writer.
    memory_retry_initial_s: float = Field(0.5, gt=0, le=600, description="first delay before reconnecting to memory")
    memory_retry_max_s: float = Field(10.0, gt=0, le=3600, description="longest delay between reconnects to memory")

    @model_validator(mode="after")
    def _consistent(self) -> PerceptionSettings:
        if self.sample_fps > self.max_sample_fps:
            raise ValueError(f"sample_fps ({self.sample_fps}) is above max_sample_fps ({self.max_sample_fps})")
        # The watchdog counts a retry as a sign of life, so it must outwait the longest silence a healthy
        # source has: a connect, a read, or a back-off delay. Shorter, it would restart decoders that work.
        longest_quiet_s = max(self.live_open_timeout_s, self.live_read_timeout_s, self.live_retry_max_s)
        if self.watchdog_stall_s <= longest_quiet_s:
            raise ValueError(
                f"watchdog_stall_s ({self.watchdog_stall_s}) must exceed live_open_timeout_s, live_read_timeout_s "
                f"and live_retry_max_s (the longest is {longest_quiet_s})"
            )
        return self
