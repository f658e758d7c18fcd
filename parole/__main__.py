from parole.cli import main

main()
