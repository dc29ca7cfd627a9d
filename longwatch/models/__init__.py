"""Model preparation shared by the services: the model cache and the tiny test models."""
