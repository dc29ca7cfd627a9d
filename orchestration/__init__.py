"""Ways to run the three longwatch services together; `Launcher` runs them as local processes."""

from orchestration.launcher import LaunchConfig, Launcher, LaunchError, ServiceDied
from orchestration.signals import Terminated, sigterm_raises

__all__ = ["LaunchConfig", "LaunchError", "Launcher", "ServiceDied", "Terminated", "sigterm_raises"]
