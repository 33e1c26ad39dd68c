from . import LINKS, STRING, Operation, Path, obj

SCHEMAS = {
    "EntryPoint": obj(
        {
            "motd": STRING,
            "max_pagesize": {"type": "integer"},
            "vendor_name": STRING,
            "product_name": STRING,
            "osdi_version": STRING,
            "namespace": STRING,
            "_links": LINKS,
        },
        ["motd", "max_pagesize", "vendor_name", "product_name", "osdi_version", "_links"],
    )
}

PATHS = [
    Path(
        "/",
        "entry point",
        [
            Operation(
                "get",
                "What this API offers (no key needed)",
                {
                    "200": {
                        "description": "The entry point",
                        "content": {
                            "application/hal+json": {
                                "schema": {"$ref": "#/components/schemas/EntryPoint"}
                            }
                        },
                    }
                },
                public=True,
            )
        ],
    )
]
