from clusterbridge.cli import main

main()
