"""`python -m daemon.cli`: the same command line as `xinbao`."""

from daemon.cli import main

if __name__ == "__main__":
    main()
