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
EncoderName = Literal["pixel-stats", "hf-clip", "vlm-vision", "tiny-clip", "tiny-siglip", "tiny-vlm-vision"]
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
    max_streams_per_client: int = Field(
        32, ge=0, le=10_000, description="of those, streams one client host may add (0: no limit of its own)"
    )
    trust_forwarded_client: bool = Field(
        False,
        description="count streams per client by the `longwatch-client` metadata a front (the Ray ingress) "
        "forwards, not by the caller's own address; only for replicas no client reaches directly",
    )

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
    frame_cache: bool = Field(
        True,
        description="reuse the features and text of a frame nearly the same as the last encoded one; "
        "false encodes and reads every sampled frame (to measure what the cache saves)",
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

    # Flash Memory: per stream, fixed size (perception.core.flash_memory). At the default 60 slots of a
    # 1152-d feature and 30 JPEGs of ~30 KB, a stream holds about 1.2 MB however long it runs.
    flash_slots: int = Field(
        60, ge=1, le=2000, description="slots of the context synopsis memory (online k-means centroids) per stream"
    )
    flash_detail_frames: int = Field(
        30,
        ge=0,
        le=2000,
        description="keyframes of the detail augmentation memory per stream (one per heavy slot, so at most "
        "flash_slots); 0 = none",
    )
    tokens_per_frame: int = Field(
        16, ge=1, le=4096, description="patch tokens kept per encoded frame after merging similar ones"
    )

    @model_validator(mode="after")
    def _flash_details_fit(self) -> PerceptionSettings:
        if self.flash_detail_frames > self.flash_slots:
            raise ValueError(
                f"flash_detail_frames ({self.flash_detail_frames}) must not exceed flash_slots ({self.flash_slots}): "
                "each detail frame stands for one slot"
            )
        return self

    # Queues.
    frame_queue_size: int = Field(8, ge=1, le=10_000, description="sampled frames waiting for the encoder")
    max_unacked_clips: int = Field(
        32, ge=1, le=100_000, description="clips of one stream sent to memory and not yet acknowledged"
    )

    # Models.
    encoder: EncoderName | None = Field(
        None,
        description="vision encoder; None = the profile's default (tiny→tiny-clip, cpu→pixel-stats, gpu→hf-clip); "
        "vlm-vision = the vision tower of the VLM named by encoder_vlm_model",
    )
    encoder_model: str = Field(
        "google/siglip-base-patch16-224",
        min_length=1,
        description="Hugging Face id or local path of a CLIP/SigLIP, for the hf-clip encoder (gpu profile)",
    )
    encoder_vlm_model: str | None = Field(
        None,
        min_length=1,
        description="Hugging Face id or local path of an Idefics3/SmolVLM VLM whose vision tower the vlm-vision "
        "encoder uses; None = captioner_model (the tokens are then the ones the captioner sees)",
    )
    encoder_device: str | None = Field(
        None, description="torch device for the encoder (cpu, cuda, cuda:1); None = CUDA when available"
    )
    encoder_batch_size: int = Field(
        16,
        ge=1,
        le=1024,
        description="frames per encoder forward pass, taken from all streams' pending frames together "
        "(a GPU encodes 16 in about the time of one)",
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
    ocr_detect_min_side_px: int = Field(
        736,
        ge=32,
        le=4096,
        description="shorter side, in pixels, the OCR text detector sees (smaller frames are enlarged for "
        "detection only; each line is then read from the original pixels at the recogniser's height)",
    )
    ocr_tile_px: int = Field(
        64,
        ge=8,
        le=1024,
        description="side, in pixels, of the tiles OCR compares with the stream's last read frame: only changed "
        "tiles are read again",
    )
    ocr_max_streams: int = Field(
        256, ge=1, le=100_000, description="streams whose last OCR read is kept (least recently read dropped first)"
    )
    ocr_with_vlm: bool = Field(
        True, description="vlm captioners read on-screen text with OCR too and show it to the model"
    )
    vlm_prompt: str = Field(
        "Describe what happens in these frames in one sentence, and read any text on screen.",
        min_length=1,
        description="instruction the VLM captions each clip with",
    )
    vlm_max_frames: int = Field(4, ge=1, le=64, description="distinct frames of a clip shown to the VLM")
    vlm_max_new_tokens: int = Field(48, ge=1, le=1024, description="tokens the VLM may generate per caption")

    # File decoding (perception.core.sources.keyframe_first, decord_frames).
    file_decode: Literal["auto", "keyframes-first", "full"] = Field(
        "auto",
        description="how files are decoded: keyframes-first decodes keyframes and only the GOPs between two "
        "keyframes that differ (something that appears and disappears between two identical keyframes is not "
        "seen); auto = keyframes-first while keyframes are close enough, else full; full = every frame",
    )
    file_decoder: Literal["auto", "pyav", "decord"] = Field(
        "auto",
        description="library that decodes files; auto = PyAV (its keyframes-first path beats decord at sampled "
        "rates); decord reads the sample grid's frames by index, and falls back to PyAV where it cannot open a file",
    )
    file_keyframe_max_changed_fraction: float = Field(
        0.001,
        ge=0,
        le=1,
        description="at most this fraction of thumbnail pixels changed for two keyframes to count as the same "
        "(the GOP between them is then not decoded); the frame cache's sense of the same by default",
    )
    file_max_keyframe_interval_s: float = Field(
        4.0,
        gt=0,
        le=3600,
        description="keyframes further apart than this many seconds are too sparse: that GOP is decoded fully "
        "(in auto mode, the rest of the file). A GOP between two identical keyframes is not decoded, so an event "
        "shorter than it can be missed: cameras key every 1-4 s, while encoders' defaults (10 s and more) would "
        "hide whole events",
    )
    file_max_gop_bytes: int = Field(
        64 << 20,
        ge=1 << 16,
        le=1 << 30,
        description="compressed bytes of one GOP kept in memory for keyframes-first decoding; a bigger GOP is "
        "decoded fully",
    )

    # Live sources.
    live_open_timeout_s: float = Field(10.0, gt=0, le=600, description="seconds to connect to a live source")
    live_read_timeout_s: float = Field(10.0, gt=0, le=600, description="seconds without data before a read fails")
    live_retry_initial_s: float = Field(1.0, gt=0, le=600, description="first reconnect delay; doubles per failure")
    live_retry_max_s: float = Field(30.0, gt=0, le=3600, description="longest reconnect delay")
    watchdog_stall_s: float = Field(
        60.0, gt=0, le=3600, description="a live decoder silent this long (no frame, no retry) is restarted"
    )

    # Pushed frames (PushFrames). A frame must fit one gRPC message: the servers take at most 64 MiB
    # (longwatch.grpc_server.MAX_MESSAGE_BYTES), and a frame message carries a few fields beside its bytes.
    push_max_frame_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        le=63 * 1024 * 1024,
        description="bytes of one pushed frame, JPEG or raw RGB (raw 1920x1080 is 6.2 MB); larger are refused",
    )
    push_max_image_side_px: int = Field(
        8192, ge=16, le=16384, description="longest side in pixels a pushed frame may have (a JPEG may claim 65535)"
    )
    push_queue_frames: int = Field(
        16,
        ge=1,
        le=1000,
        description="pushed frames waiting for the decode thread; a full queue slows the client (at most this "
        "many times push_max_frame_bytes held per stream)",
    )
    push_finish_timeout_s: float = Field(
        60.0, ge=0, le=3600, description="seconds a PushFrames call waits for its clips once the client is done"
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
