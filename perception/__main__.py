"""`python -m perception` runs the perception service, configured from LONGWATCH_* environment variables."""

from perception.app import main

if __name__ == "__main__":
    main()
