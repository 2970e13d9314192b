from osintel.cli import main

main()
