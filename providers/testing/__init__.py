"""Test doubles for the providers: local servers speaking the OpenAI and Ollama wire protocols."""
