"""`python -m reasoner` runs the reasoner service, configured from LONGWATCH_* environment variables."""

from reasoner.app import main

if __name__ == "__main__":
    main()
