"""`python -m memory_service` runs the memory service, configured from LONGWATCH_* environment variables."""

from memory_service.app import main

if __name__ == "__main__":
    main()
