"""What both apps (payments and storefront) build on, beneath them as currencies/ is, importing
neither: the JSON API's conventions (api: the error shape's schema, token authentication;
api_errors: one error shape whatever refuses a request), migration operations every supported
database runs while a release serves (migration_operations), the tally of time spent
waiting for providers during a request (timing), and transactions run again when the database
picks them as a deadlock's victim (transactions).
"""
