-- wrk script: POST /subjects/{s} (is this schema registered? which id?)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/vnd.schemaregistry.v1+json"
wrk.body = os.getenv("SB_LOOKUP_BODY")
