from ttct.admin.commands import main

main()
