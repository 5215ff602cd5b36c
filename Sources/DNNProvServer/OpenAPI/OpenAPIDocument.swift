import Foundation

/// The OpenAPI 3.1 description of the whole HTTP API, served as `GET /openapi.json`.
///
/// It lists every route of `buildRouter(store:configuration:)` — the public ones, the reader,
/// writer and admin ones of `/api/v1`, and the DfAnalyzer endpoints, plain and again under
/// `/t/{token}/` — with the request bodies the server decodes, the success answers and every
/// error status an endpoint can give (each with the shared `Error` schema
/// `{"error": "...", "event": n}`). Answers are described loosely (extra properties allowed), so a
/// new field in an answer does not break a client that validates against this document.
///
/// Keep it in step with the router: `OpenAPITests` fails when a route is missing on either side,
/// and `scripts/schemathesis` checks the real server's answers against it.
public enum OpenAPIDocument {
    /// The document as JSON text.
    public static let json: String = withPathTokenRoutes(base)

    /// Old DfAnalyzer clients cannot send headers, so their routes answer under `/t/{token}/`
    /// too: the same operations with the token as a path parameter, made here rather than
    /// written twice.
    static func withPathTokenRoutes(_ text: String) -> String {
        guard var doc = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              var paths = doc["paths"] as? [String: Any] else { return text }
        for (path, item) in paths where path.hasPrefix("/pde/") || path.hasPrefix("/api/dataflows/")
            || path.hasPrefix("/query_interface/") {
            guard let item = item as? [String: Any] else { continue }
            var copy: [String: Any] = [:]
            for (method, value) in item {
                // Pages for browsers (the query interface's address leads to the UI) stay at the root.
                guard var operation = value as? [String: Any], !((operation["tags"] as? [String]) ?? []).contains("ui") else { continue }
                operation["operationId"] = ((operation["operationId"] as? String) ?? method) + "WithPathToken"
                operation["summary"] = ((operation["summary"] as? String) ?? "") + " The token is in the path."
                operation["tags"] = ["dfanalyzer (token in path)"]
                operation["parameters"] = [["$ref": "#/components/parameters/pathToken"]] + (operation["parameters"] as? [Any] ?? [])
                copy[method] = operation
            }
            if !copy.isEmpty { paths["/t/{token}" + path] = copy }
        }
        doc["paths"] = paths
        guard let data = try? JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]) else {
            return text
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The document without the `/t/{token}/` copies.
    static let base: String = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "dnnprov",
    "version": "1",
    "summary": "Provenance of deep-learning training (W3C PROV, the PROV-Df / DNNProv-Df model), with the DfAnalyzer protocol.",
    "description": "A 2xx answer to a write means the data is committed. Every error is `{\"error\": \"...\"}` (with `\"event\": n` for batch errors). Tags and attribute names are case-insensitive and stored in lower case. When authentication is on (by default on any address but loopback), a token is accepted as `Authorization: Bearer <secret>`, as `?token=<secret>`, in the path as `/t/<secret>/...` (DfAnalyzer endpoints), or through the web UI's `dnnprov_session` cookie (unsafe methods then need `X-CSRF-Token` equal to the `dnnprov_csrf` cookie). Roles: reader < writer < admin. See docs/api.md and docs/dfanalyzer.md."
  },
  "tags": [
    {
      "name": "public",
      "description": "No token needed."
    },
    {
      "name": "reader",
      "description": "Needs a reader token (or higher)."
    },
    {
      "name": "writer",
      "description": "Needs a writer token (or higher)."
    },
    {
      "name": "admin",
      "description": "Needs an admin token."
    },
    {
      "name": "dfanalyzer",
      "description": "The DfAnalyzer protocol: reads need a reader token, writes a writer token."
    },
    {
      "name": "dfanalyzer (token in path)",
      "description": "The DfAnalyzer protocol with the token in the path, for clients that cannot send headers."
    }
  ],
  "security": [
    {
      "bearer": []
    },
    {
      "tokenQuery": []
    },
    {
      "sessionCookie": []
    }
  ],
  "paths": {
      "/": {
        "get": {
          "operationId": "uiPage",
          "tags": [
            "ui"
          ],
          "summary": "The web UI (runs, charts, dataflow viewer, query builder, SQL console; docs/ui.md). Its data comes from the API, which checks tokens.",
          "security": [],
          "responses": {
            "200": {
              "description": "The page.",
              "content": {
                "text/html": {
                  "schema": {
                    "type": "string"
                  }
                }
              }
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "503": {
              "$ref": "#/components/responses/Unavailable"
            }
          }
        }
      },
      "/ui/{path}": {
        "get": {
          "operationId": "uiFile",
          "tags": [
            "ui"
          ],
          "summary": "A file of the web UI (scripts, styles, vendored libraries).",
          "security": [],
          "parameters": [
            {
              "name": "path",
              "in": "path",
              "required": true,
              "description": "The file under ui/.",
              "schema": {
                "type": "string"
              },
              "example": "app.css"
            }
          ],
          "responses": {
            "200": {
              "description": "The file.",
              "content": {
                "*/*": {
                  "schema": {
                    "type": "string"
                  }
                }
              }
            },
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "503": {
              "$ref": "#/components/responses/Unavailable"
            }
          }
        }
      },
      "/dfview": {
        "get": {
          "operationId": "dfview",
          "tags": [
            "ui"
          ],
          "summary": "DfAnalyzer's dataflow viewer address: leads to the web UI.",
          "security": [],
          "responses": {
            "303": {
              "description": "To the web UI's view (`Location`)."
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            }
          }
        }
      },
      "/dfview/{tag}": {
        "get": {
          "operationId": "dfviewDataflow",
          "tags": [
            "ui"
          ],
          "summary": "DfAnalyzer's viewer of one dataflow: leads to the UI's graph view.",
          "security": [],
          "parameters": [
            {
              "$ref": "#/components/parameters/tag"
            }
          ],
          "responses": {
            "303": {
              "description": "To the web UI's view (`Location`)."
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            }
          }
        }
      },
  
      "/api/v1/dataflows/{tag}/prov": {
        "get": {
          "operationId": "exportProv",
          "tags": [
            "reader"
          ],
          "summary": "The dataflow, one execution or one task as a W3C PROV document (PROV-JSON, PROV-N, PROV-O Turtle, Graphviz DOT, SVG), streamed (docs/prov-mapping.md).",
          "parameters": [
            {
              "$ref": "#/components/parameters/tag"
            },
            {
              "name": "format",
              "in": "query",
              "required": false,
              "description": "prov-json (default), prov-n, prov-o, dot or svg (needs Graphviz on the server: 422 without it; 413 past 20,000 records).",
              "schema": {
                "type": "string",
                "enum": [
                  "prov-json",
                  "prov-n",
                  "prov-o",
                  "dot",
                  "svg"
                ]
              }
            },
            {
              "name": "execution",
              "in": "query",
              "required": false,
              "description": "Only this execution (its tag).",
              "schema": {
                "type": "string"
              }
            },
            {
              "name": "task",
              "in": "query",
              "required": false,
              "description": "Only this task (its stored id).",
              "schema": {
                "type": "integer"
              }
            }
          ],
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "413": {
              "$ref": "#/components/responses/TooLarge"
            },
            "422": {
              "$ref": "#/components/responses/Unprocessable"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "200": {
              "description": "The PROV document.",
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "additionalProperties": true
                  }
                },
                "text/provenance-notation": {
                  "schema": {
                    "type": "string"
                  }
                },
                "text/turtle": {
                  "schema": {
                    "type": "string"
                  }
                },
                "text/vnd.graphviz": {
                  "schema": {
                    "type": "string"
                  }
                },
                "image/svg+xml": {
                  "schema": {
                    "type": "string"
                  }
                }
              }
            }
          }
        }
      },
      "/api/v1/dataflows/{tag}/lineage": {
        "get": {
          "operationId": "lineage",
          "tags": [
            "reader"
          ],
          "summary": "The derivation path of one element (a row of a set): back to what it was derived from, forward to what was derived from it.",
          "parameters": [
            {
              "$ref": "#/components/parameters/tag"
            },
            {
              "name": "set",
              "in": "query",
              "required": true,
              "description": "The element's set.",
              "schema": {
                "type": "string"
              }
            },
            {
              "name": "id",
              "in": "query",
              "required": true,
              "description": "The element's row id.",
              "schema": {
                "type": "integer"
              }
            },
            {
              "name": "direction",
              "in": "query",
              "required": false,
              "description": "back (default), forward or both.",
              "schema": {
                "type": "string",
                "enum": [
                  "back",
                  "forward",
                  "both"
                ]
              }
            },
            {
              "name": "depth",
              "in": "query",
              "required": false,
              "description": "Derivation steps to follow (0 to 100, default 10).",
              "schema": {
                "type": "integer",
                "minimum": 0,
                "maximum": 100
              }
            }
          ],
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "200": {
              "description": "Nodes (entities: elements; activities: tasks) and edges (wasGeneratedBy, used, wasDerivedFrom, wasInformedBy).",
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "required": [
                      "dataflow",
                      "root",
                      "nodes",
                      "edges",
                      "truncated"
                    ],
                    "properties": {
                      "dataflow": {
                        "type": "string"
                      },
                      "root": {
                        "type": "string"
                      },
                      "direction": {
                        "type": "string"
                      },
                      "depth": {
                        "type": "integer"
                      },
                      "nodes": {
                        "type": "array",
                        "items": {
                          "type": "object"
                        }
                      },
                      "edges": {
                        "type": "array",
                        "items": {
                          "type": "object"
                        }
                      },
                      "truncated": {
                        "type": "boolean"
                      },
                      "elapsed_ms": {
                        "type": "number"
                      }
                    }
                  }
                }
              }
            }
          }
        }
      },
      "/api/v1/prov": {
        "post": {
          "operationId": "importProv",
          "tags": [
            "writer"
          ],
          "summary": "Imports a PROV-JSON document (dnnprov's, yProv4ML's, DLProv's, the prov package's) into a dataflow, through the normal write path (docs/prov-mapping.md, Import).",
          "parameters": [
            {
              "name": "dataflow",
              "in": "query",
              "required": false,
              "description": "The dataflow to import into (default: the document's plan, else 'imported').",
              "schema": {
                "type": "string"
              }
            }
          ],
          "requestBody": {
            "required": true,
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "additionalProperties": true
                }
              }
            }
          },
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "409": {
              "$ref": "#/components/responses/Conflict"
            },
            "413": {
              "$ref": "#/components/responses/TooLarge"
            },
            "422": {
              "$ref": "#/components/responses/Unprocessable"
            },
            "429": {
              "$ref": "#/components/responses/TooMany"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "201": {
              "description": "What was stored.",
              "content": {
                "application/json": {
                  "schema": {
                    "type": "object",
                    "properties": {
                      "dataflow": {
                        "type": "string"
                      },
                      "executions": {
                        "type": "array",
                        "items": {
                          "type": "string"
                        }
                      },
                      "tasks": {
                        "type": "integer"
                      },
                      "elements": {
                        "type": "integer"
                      },
                      "sets": {
                        "type": "array",
                        "items": {
                          "type": "string"
                        }
                      },
                      "duplicates": {
                        "type": "integer"
                      },
                      "warnings": {
                        "type": "array",
                        "items": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      },
      "/api/v1/dataflows/{tag}/runs": {
        "get": {
          "operationId": "listRuns",
          "tags": [
            "reader"
          ],
          "summary": "The dataflow's runs with their summaries (status, times, hyperparameters, last/min/max/count of each metric), kept up to date at ingestion.",
          "parameters": [
            {
              "$ref": "#/components/parameters/tag"
            }
          ],
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "200": {
              "description": "The runs.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/RunsAnswer"
                  }
                }
              }
            }
          }
        }
      },
      "/api/v1/dataflows/{tag}/series": {
        "get": {
          "operationId": "series",
          "tags": [
            "reader"
          ],
          "summary": "Attributes of a set along an axis, one series per run and attribute, downsampled past `points` (first, min, max, last per bucket).",
          "parameters": [
            {
              "$ref": "#/components/parameters/tag"
            },
            {
              "name": "set",
              "in": "query",
              "required": true,
              "description": "The set.",
              "schema": {
                "type": "string"
              },
              "example": "otrainingmodel"
            },
            {
              "name": "y",
              "in": "query",
              "required": true,
              "description": "NUMERIC attributes, comma-separated (1 to 16).",
              "schema": {
                "type": "string"
              },
              "example": "loss"
            },
            {
              "name": "runs",
              "in": "query",
              "required": true,
              "description": "Run (execution) ids, comma-separated (1 to 100).",
              "schema": {
                "type": "string"
              },
              "example": "1"
            },
            {
              "name": "x",
              "in": "query",
              "required": false,
              "description": "The x attribute (default: the row's position in the run).",
              "schema": {
                "type": "string"
              },
              "example": "epoch"
            },
            {
              "name": "from",
              "in": "query",
              "required": false,
              "description": "Only rows whose x is at least this (a zoomed chart asking for detail).",
              "schema": {
                "type": "number"
              }
            },
            {
              "name": "to",
              "in": "query",
              "required": false,
              "description": "Only rows whose x is at most this.",
              "schema": {
                "type": "number"
              }
            },
            {
              "name": "points",
              "in": "query",
              "required": false,
              "description": "The most points per series (10 to 100000; default 2000).",
              "schema": {
                "type": "integer",
                "minimum": 10,
                "maximum": 100000
              }
            }
          ],
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "200": {
              "description": "The series.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/SeriesAnswer"
                  }
                }
              }
            }
          }
        }
      },
      "/api/v1/dataflows/{tag}/live": {
        "get": {
          "operationId": "live",
          "tags": [
            "reader"
          ],
          "summary": "Server-sent events after each commit: `run` (a RunSummary), `rows` (a LiveRows), `dataflow` (the specification changed), `reset` (reload). Resume with `Last-Event-ID` or `since`.",
          "parameters": [
            {
              "$ref": "#/components/parameters/tag"
            },
            {
              "name": "since",
              "in": "query",
              "required": false,
              "description": "Continue after this event id (the `seq` of the runs answer).",
              "schema": {
                "type": "integer"
              }
            },
            {
              "name": "Last-Event-ID",
              "in": "header",
              "required": false,
              "description": "The last event id seen (EventSource sends it when it reconnects).",
              "schema": {
                "type": "integer"
              }
            }
          ],
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "429": {
              "$ref": "#/components/responses/TooMany"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "200": {
              "description": "The stream (never ends while the server runs).",
              "content": {
                "text/event-stream": {
                  "schema": {
                    "type": "string"
                  }
                }
              }
            }
          }
        }
      },
      "/api/v1/charts": {
        "get": {
          "operationId": "listCharts",
          "tags": [
            "reader"
          ],
          "summary": "A dataflow's dashboard: built-in charts (seed 000) and saved ones.",
          "parameters": [
            {
              "name": "dataflow",
              "in": "query",
              "required": true,
              "description": "The dataflow tag.",
              "schema": {
                "type": "string"
              },
              "example": "alexnet"
            }
          ],
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "200": {
              "description": "The charts.",
              "content": {
                "application/json": {
                  "schema": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/SavedChart"
                    }
                  }
                }
              }
            }
          }
        },
        "post": {
          "operationId": "saveChart",
          "tags": [
            "writer"
          ],
          "summary": "Keeps a chart of a read-only query on its dataflow's dashboard.",
          "requestBody": {
            "required": true,
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ChartRequest"
                }
              }
            }
          },
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "413": {
              "$ref": "#/components/responses/TooLarge"
            },
            "429": {
              "$ref": "#/components/responses/TooMany"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "201": {
              "description": "Saved.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/SavedChart"
                  }
                }
              }
            }
          }
        }
      },
      "/api/v1/charts/{id}": {
        "delete": {
          "operationId": "deleteChart",
          "tags": [
            "writer"
          ],
          "summary": "Removes a saved chart (built-in ones stay: 409).",
          "parameters": [
            {
              "name": "id",
              "in": "path",
              "required": true,
              "description": "The chart's id.",
              "schema": {
                "type": "string"
              },
              "example": "1"
            }
          ],
          "responses": {
            "400": {
              "$ref": "#/components/responses/BadRequest"
            },
            "401": {
              "$ref": "#/components/responses/Unauthorized"
            },
            "403": {
              "$ref": "#/components/responses/Forbidden"
            },
            "404": {
              "$ref": "#/components/responses/NotFound"
            },
            "409": {
              "$ref": "#/components/responses/Conflict"
            },
            "429": {
              "$ref": "#/components/responses/TooMany"
            },
            "500": {
              "$ref": "#/components/responses/Internal"
            },
            "200": {
              "description": "The removed chart.",
              "content": {
                "application/json": {
                  "schema": {
                    "$ref": "#/components/schemas/SavedChart"
                  }
                }
              }
            }
          }
        }
      },
    "/health": {
      "get": {
        "operationId": "health",
        "tags": [
          "public"
        ],
        "summary": "Liveness: the server is up and its database answers.",
        "security": [],
        "responses": {
          "200": {
            "description": "Up.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "tags": [
          "public"
        ],
        "summary": "This document.",
        "security": [],
        "responses": {
          "200": {
            "description": "The OpenAPI 3.1 description of the API.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/login": {
      "get": {
        "operationId": "loginPage",
        "tags": [
          "public"
        ],
        "summary": "The web UI's sign-in page.",
        "security": [],
        "parameters": [
          {
            "name": "next",
            "in": "query",
            "required": false,
            "description": "A path on this server to go to after signing in (another site's address is ignored).",
            "schema": {
              "type": "string"
            },
            "example": "/#/d/alexnet"
          }
        ],
        "responses": {
          "200": {
            "description": "An HTML form asking for a token.",
            "content": {
              "text/html": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      },
      "post": {
        "operationId": "login",
        "tags": [
          "public"
        ],
        "summary": "Signs in the web UI: sets the `dnnprov_session` and `dnnprov_csrf` cookies.",
        "security": [],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "required": [
                  "token"
                ],
                "properties": {
                  "token": {
                    "type": "string"
                  },
                  "next": {
                    "type": "string",
                    "description": "A path on this server to go to after signing in (default /)."
                  }
                }
              }
            }
          }
        },
        "responses": {
          "303": {
            "description": "Signed in; redirected to the UI.",
            "headers": {
              "Location": {
                "schema": {
                  "type": "string"
                }
              },
              "Set-Cookie": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/logout": {
      "post": {
        "operationId": "logout",
        "tags": [
          "public"
        ],
        "summary": "Signs out the web UI: clears its cookies.",
        "security": [],
        "responses": {
          "303": {
            "description": "Signed out; redirected to the sign-in page.",
            "headers": {
              "Location": {
                "schema": {
                  "type": "string"
                }
              },
              "Set-Cookie": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/dataflows": {
      "post": {
        "operationId": "registerDataflow",
        "tags": [
          "writer"
        ],
        "summary": "Registers a dataflow, or extends it when it exists (new transformations, sets, attributes).",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/DataflowSpec"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created (first version).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Registration"
                }
              }
            }
          },
          "200": {
            "description": "Extended, or already as sent.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Registration"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      },
      "get": {
        "operationId": "listDataflows",
        "tags": [
          "reader"
        ],
        "summary": "The stored dataflows.",
        "responses": {
          "200": {
            "description": "Dataflows.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/DataflowSummary"
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/dataflows/{tag}": {
      "get": {
        "operationId": "getDataflow",
        "tags": [
          "reader"
        ],
        "summary": "A dataflow's specification.",
        "parameters": [
          {
            "$ref": "#/components/parameters/tag"
          }
        ],
        "responses": {
          "200": {
            "description": "The specification.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Specification"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/dataflows/{tag}/sets": {
      "get": {
        "operationId": "listSets",
        "tags": [
          "reader"
        ],
        "summary": "A dataflow's sets.",
        "parameters": [
          {
            "$ref": "#/components/parameters/tag"
          }
        ],
        "responses": {
          "200": {
            "description": "Sets.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/SetSummary"
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/dataflows/{tag}/executions": {
      "get": {
        "operationId": "listExecutions",
        "tags": [
          "reader"
        ],
        "summary": "A dataflow's executions.",
        "parameters": [
          {
            "$ref": "#/components/parameters/tag"
          }
        ],
        "responses": {
          "200": {
            "description": "Executions.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/ExecutionSummary"
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/dataflows/{tag}/tasks": {
      "get": {
        "operationId": "listTasks",
        "tags": [
          "reader"
        ],
        "summary": "A dataflow's tasks, of one execution or all.",
        "parameters": [
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "$ref": "#/components/parameters/execution"
          }
        ],
        "responses": {
          "200": {
            "description": "Tasks.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/TaskSummary"
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/dataflows/{tag}/sets/{set}/rows": {
      "get": {
        "operationId": "listRows",
        "tags": [
          "reader"
        ],
        "summary": "A set's rows, paged, or those after a row id (live polling).",
        "parameters": [
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "$ref": "#/components/parameters/set"
          },
          {
            "$ref": "#/components/parameters/execution"
          },
          {
            "$ref": "#/components/parameters/task"
          },
          {
            "$ref": "#/components/parameters/after"
          },
          {
            "$ref": "#/components/parameters/limit"
          },
          {
            "$ref": "#/components/parameters/offset"
          }
        ],
        "responses": {
          "200": {
            "description": "Rows.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/QueryResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/batch": {
      "post": {
        "operationId": "batch",
        "tags": [
          "writer"
        ],
        "summary": "Many task events in one request, stored all or nothing; answered after the commit.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/BatchRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Committed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/IngestResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/query": {
      "post": {
        "operationId": "query",
        "tags": [
          "reader"
        ],
        "summary": "One read-only SQL statement.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/QueryRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The result.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/QueryResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "408": {
            "$ref": "#/components/responses/Timeout"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/dataflows/{tag}/dfquery": {
      "post": {
        "operationId": "dfQuery",
        "tags": [
          "reader"
        ],
        "summary": "A query in DfAnalyzer's query language (mapping, source, target, include, exclude, projection, selection), translated to SQL over the dataflow's datasets and run (docs/dfanalyzer.md).",
        "parameters": [
          {
            "$ref": "#/components/parameters/tag"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/DfQueryRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The generated SQL and its result (null with `\"run\": false`).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DfQueryAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "408": {
            "$ref": "#/components/responses/Timeout"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/tokens": {
      "get": {
        "operationId": "listTokens",
        "tags": [
          "admin"
        ],
        "summary": "The tokens (never their secrets).",
        "responses": {
          "200": {
            "description": "Tokens.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/Token"
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      },
      "post": {
        "operationId": "createToken",
        "tags": [
          "admin"
        ],
        "summary": "Creates a token; its secret is shown only in this answer.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/TokenRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Created.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/TokenCreated"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/v1/tokens/{id}": {
      "delete": {
        "operationId": "revokeToken",
        "tags": [
          "admin"
        ],
        "summary": "Revokes a token.",
        "parameters": [
          {
            "$ref": "#/components/parameters/tokenId"
          }
        ],
        "responses": {
          "200": {
            "description": "Revoked (or already revoked): the token, with `revoked_at`.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Token"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/pde/dataflow/json": {
      "post": {
        "operationId": "dfaDataflowJSON",
        "tags": [
          "dfanalyzer"
        ],
        "summary": "DfAnalyzer: registers or extends a dataflow (JSON).",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/DataflowSpec"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Stored.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Registration"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/pde/dataflow": {
      "post": {
        "operationId": "dfaDataflowText",
        "tags": [
          "dfanalyzer"
        ],
        "summary": "DfAnalyzer: registers or extends a dataflow (line-based text format).",
        "requestBody": {
          "required": true,
          "description": "One call per line: dataflow(tag), program(name, path), dataset(tag, {names}, {types}), transformation(tag, {inputs}, {outputs}, {programs}). Any Content-Type is accepted.",
          "content": {
            "text/plain": {
              "schema": {
                "type": "string"
              },
              "example": "dataflow(alexnet)\nprogram(train.py, /home/me)\ndataset(otrainingmodel, {loss;epoch}, {NUMERIC;NUMERIC})\ntransformation(trainingmodel, {}, {otrainingmodel}, {train.py})\n"
            }
          }
        },
        "responses": {
          "200": {
            "description": "Stored.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Registration"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "409": {
            "$ref": "#/components/responses/Conflict"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/pde/task/json": {
      "post": {
        "operationId": "dfaTaskJSON",
        "tags": [
          "dfanalyzer"
        ],
        "summary": "DfAnalyzer: a task message (JSON).",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/DfaTaskMessage"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "Committed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/IngestResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/pde/task": {
      "post": {
        "operationId": "dfaTaskText",
        "tags": [
          "dfanalyzer"
        ],
        "summary": "DfAnalyzer: a task message (line-based text format).",
        "requestBody": {
          "required": true,
          "description": "One call per line: task(dataflow, transformation, id, subId, STATUS[, workspace[, resource]]), collection(set, {{v;v};{v;v}}), dependency({tags}, {ids}), file(name, path). Any Content-Type is accepted.",
          "content": {
            "text/plain": {
              "schema": {
                "type": "string"
              },
              "example": "task(alexnet, trainingmodel, 1, 0, RUNNING)\ncollection(otrainingmodel, {{2.31;1}})\n"
            }
          }
        },
        "responses": {
          "200": {
            "description": "Committed.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/IngestResult"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "422": {
            "$ref": "#/components/responses/Unprocessable"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/dataflows/list": {
      "get": {
        "operationId": "dfaListDataflows",
        "tags": [
          "dfanalyzer"
        ],
        "summary": "DfAnalyzer: the stored dataflows.",
        "responses": {
          "200": {
            "description": "Dataflows.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/DfaDataflowListEntry"
                  }
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/api/dataflows/{id}": {
      "get": {
        "operationId": "dfaDataflowGraph",
        "tags": [
          "dfanalyzer"
        ],
        "summary": "DfAnalyzer: a dataflow's graph for a viewer.",
        "parameters": [
          {
            "$ref": "#/components/parameters/dfaId"
          }
        ],
        "responses": {
          "200": {
            "description": "The graph.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DfaGraph"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    },
    "/query_interface/{tag}/{id}": {
      "get": {
        "operationId": "dfaQueryInterfacePage",
        "tags": [
          "ui"
        ],
        "summary": "DfAnalyzer's query interface address, opened in a browser: leads to the UI's query builder.",
        "security": [],
        "parameters": [
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "DfAnalyzer's dataflow id (not used).",
            "schema": {
              "type": "string"
            },
            "example": "1"
          }
        ],
        "responses": {
          "303": {
            "description": "To the web UI's query builder (`Location`)."
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      },
      "post": {
        "operationId": "dfaQueryInterface",
        "tags": [
          "dfanalyzer"
        ],
        "summary": "DfAnalyzer's Query Interface: a query in its query language (form field `message`, or the raw body), answered as DfAnalyzer's CSV (`;` between fields, every value quoted, a header line). `{id}` is accepted and ignored.",
        "parameters": [
          {
            "$ref": "#/components/parameters/tag"
          },
          {
            "name": "id",
            "in": "path",
            "required": true,
            "description": "DfAnalyzer's dataflow id or version; ignored.",
            "schema": {
              "type": "string"
            },
            "example": "1"
          },
          {
            "name": "format",
            "in": "query",
            "required": false,
            "description": "`csv` (the default), `json` (a DfQueryAnswer; also with `Accept: application/json`) or `sql` (the generated SQL only, as text).",
            "schema": {
              "type": "string",
              "enum": [
                "csv",
                "json",
                "sql"
              ]
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Most rows returned.",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "default": 10000
            }
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/x-www-form-urlencoded": {
              "schema": {
                "type": "object",
                "required": [
                  "message"
                ],
                "properties": {
                  "message": {
                    "type": "string",
                    "description": "The query, one clause per line."
                  }
                }
              }
            },
            "text/plain": {
              "schema": {
                "type": "string"
              },
              "example": "mapping(physical)\nsource(itrainingmodel)\ntarget(otrainingmodel)\nprojection(itrainingmodel.optimizer_name;otrainingmodel.loss)\nselection(otrainingmodel.loss < 0.5)"
            }
          }
        },
        "responses": {
          "200": {
            "description": "The rows.",
            "headers": {
              "X-Result-Truncated": {
                "description": "Present when a limit cut the rows: `rows` or `bytes`.",
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "text/csv": {
                "schema": {
                  "type": "string"
                }
              },
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DfQueryAnswer"
                }
              },
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/BadRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "403": {
            "$ref": "#/components/responses/Forbidden"
          },
          "404": {
            "$ref": "#/components/responses/NotFound"
          },
          "408": {
            "$ref": "#/components/responses/Timeout"
          },
          "413": {
            "$ref": "#/components/responses/TooLarge"
          },
          "429": {
            "$ref": "#/components/responses/TooMany"
          },
          "500": {
            "$ref": "#/components/responses/Internal"
          }
        }
      }
    }
  },
  "components": {
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token's secret (`dnp_...`)."
      },
      "tokenQuery": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "A token's secret as `?token=`."
      },
      "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "dnnprov_session",
        "description": "Set by `POST /login`. Unsafe methods also need header `X-CSRF-Token` equal to cookie `dnnprov_csrf`."
      }
    },
    "schemas": {
        "MetricSummary": {
          "type": "object",
          "required": [
            "count"
          ],
          "properties": {
            "last": {
              "type": "number"
            },
            "min": {
              "type": "number"
            },
            "max": {
              "type": "number"
            },
            "count": {
              "type": "integer"
            }
          }
        },
        "RunSummary": {
          "type": "object",
          "required": [
            "id",
            "execution",
            "status",
            "stale",
            "tasks",
            "params",
            "tables",
            "metrics"
          ],
          "properties": {
            "id": {
              "type": "integer"
            },
            "execution": {
              "type": "string"
            },
            "status": {
              "type": "string",
              "enum": [
                "RUNNING",
                "FINISHED",
                "FAILED"
              ]
            },
            "stale": {
              "type": "boolean"
            },
            "tasks": {
              "type": "integer"
            },
            "duration": {
              "type": [
                "number",
                "null"
              ]
            },
            "start_time": {
              "type": [
                "string",
                "null"
              ]
            },
            "end_time": {
              "type": [
                "string",
                "null"
              ]
            },
            "updated_at": {
              "type": [
                "string",
                "null"
              ]
            },
            "user": {
              "type": [
                "string",
                "null"
              ]
            },
            "host": {
              "type": [
                "string",
                "null"
              ]
            },
            "script": {
              "type": [
                "string",
                "null"
              ]
            },
            "params": {
              "type": "object",
              "description": "Per input set with one row in the run: attribute -> value.",
              "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                  "$ref": "#/components/schemas/Value"
                }
              }
            },
            "tables": {
              "type": "object",
              "description": "Input sets with several rows in the run: set -> rows.",
              "additionalProperties": {
                "type": "integer"
              }
            },
            "metrics": {
              "type": "object",
              "description": "Per output set, per NUMERIC attribute.",
              "additionalProperties": {
                "type": "object",
                "additionalProperties": {
                  "$ref": "#/components/schemas/MetricSummary"
                }
              }
            }
          }
        },
        "RunsAnswer": {
          "type": "object",
          "required": [
            "dataflow",
            "seq",
            "now",
            "stale_after",
            "runs"
          ],
          "properties": {
            "dataflow": {
              "type": "string"
            },
            "seq": {
              "type": "integer"
            },
            "now": {
              "type": "string"
            },
            "stale_after": {
              "type": "number"
            },
            "runs": {
              "type": "array",
              "items": {
                "$ref": "#/components/schemas/RunSummary"
              }
            }
          }
        },
        "SeriesAnswer": {
          "type": "object",
          "required": [
            "set",
            "series"
          ],
          "properties": {
            "set": {
              "type": "string"
            },
            "x": {
              "type": [
                "string",
                "null"
              ]
            },
            "series": {
              "type": "array",
              "items": {
                "type": "object",
                "required": [
                  "run",
                  "execution",
                  "attribute",
                  "count",
                  "downsampled",
                  "x",
                  "y"
                ],
                "properties": {
                  "run": {
                    "type": "integer"
                  },
                  "execution": {
                    "type": "string"
                  },
                  "attribute": {
                    "type": "string"
                  },
                  "count": {
                    "type": "integer"
                  },
                  "downsampled": {
                    "type": "boolean"
                  },
                  "last_id": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  },
                  "x": {
                    "type": "array",
                    "items": {
                      "type": [
                        "number",
                        "null"
                      ]
                    }
                  },
                  "y": {
                    "type": "array",
                    "items": {
                      "type": [
                        "number",
                        "null"
                      ]
                    }
                  }
                }
              }
            }
          }
        },
        "ChartSpec": {
          "type": "object",
          "required": [
            "type",
            "x",
            "y"
          ],
          "properties": {
            "type": {
              "type": "string",
              "enum": [
                "line",
                "bar",
                "scatter"
              ]
            },
            "x": {
              "type": "string"
            },
            "y": {
              "type": "array",
              "items": {
                "type": "string"
              }
            },
            "group": {
              "type": [
                "string",
                "null"
              ]
            }
          }
        },
        "ChartRequest": {
          "type": "object",
          "required": [
            "dataflow",
            "title",
            "sql",
            "chart"
          ],
          "properties": {
            "dataflow": {
              "type": "string"
            },
            "title": {
              "type": "string"
            },
            "sql": {
              "type": "string"
            },
            "chart": {
              "$ref": "#/components/schemas/ChartSpec"
            }
          }
        },
        "SavedChart": {
          "type": "object",
          "required": [
            "id",
            "dataflow",
            "title",
            "sql",
            "chart",
            "builtin"
          ],
          "properties": {
            "id": {
              "type": "string"
            },
            "dataflow": {
              "type": "string"
            },
            "title": {
              "type": "string"
            },
            "sql": {
              "type": "string"
            },
            "chart": {
              "$ref": "#/components/schemas/ChartSpec"
            },
            "created_at": {
              "type": [
                "string",
                "null"
              ]
            },
            "builtin": {
              "type": "boolean"
            }
          }
        },
      "Error": {
        "type": "object",
        "description": "Every error answer. `event` is the index of the first bad event of a batch.",
        "required": [
          "error"
        ],
        "properties": {
          "error": {
            "type": "string",
            "description": "What is wrong, in words."
          },
          "event": {
            "type": "integer",
            "minimum": 0,
            "description": "Batch requests: the index of the event that failed."
          }
        }
      },
      "Health": {
        "type": "object",
        "required": [
          "status",
          "database",
          "version"
        ],
        "properties": {
          "status": {
            "type": "string",
            "const": "ok"
          },
          "database": {
            "type": "string",
            "enum": [
              "sqlite",
              "postgresql"
            ],
            "description": "The backend the store runs on."
          },
          "version": {
            "type": "string"
          }
        }
      },
      "Identifier": {
        "type": "string",
        "pattern": "^[A-Za-z_][A-Za-z0-9_.-]{0,127}$",
        "description": "A transformation tag, set tag or attribute name: letters, digits, '_', '-' and '.', starting with a letter or '_', at most 128 characters, case-insensitive (stored in lower case). Names starting with `sqlite_`, the global tables' names, `id` and `*_task_id` attributes are refused."
      },
      "DataflowTag": {
        "type": "string",
        "pattern": "^[A-Za-z_][A-Za-z0-9_.-]{0,127}$",
        "description": "Letters, digits, '_', '-' and '.', starting with a letter or '_', at most 128 characters; case-insensitive (stored in lower case)."
      },
      "AttributeType": {
        "type": "string",
        "description": "NUMERIC is stored as a double; TEXT, FILE, LONG_TEXT and any other type as text. Case-insensitive.",
        "examples": [
          "TEXT",
          "NUMERIC",
          "FILE",
          "LONG_TEXT"
        ]
      },
      "Attribute": {
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "$ref": "#/components/schemas/Identifier"
          },
          "type": {
            "$ref": "#/components/schemas/AttributeType"
          }
        }
      },
      "Program": {
        "type": "object",
        "required": [
          "name",
          "path"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "path": {
            "type": "string"
          }
        }
      },
      "SetSpec": {
        "type": "object",
        "required": [
          "tag"
        ],
        "properties": {
          "tag": {
            "$ref": "#/components/schemas/Identifier"
          },
          "type": {
            "type": "string",
            "enum": [
              "INPUT",
              "OUTPUT"
            ],
            "default": "INPUT",
            "description": "Case-insensitive."
          },
          "attributes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Attribute"
            }
          },
          "dependency": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/Identifier"
              },
              {
                "type": "null"
              }
            ],
            "description": "The transformation that produces this set, when this transformation consumes it."
          }
        }
      },
      "TransformationSpec": {
        "type": "object",
        "required": [
          "tag"
        ],
        "properties": {
          "tag": {
            "$ref": "#/components/schemas/Identifier"
          },
          "sets": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/SetSpec"
            }
          },
          "programs": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Program"
            }
          }
        }
      },
      "DataflowSpec": {
        "type": "object",
        "description": "A dataflow specification (DfAnalyzer's JSON shape). Posting it again with more transformations, sets or attributes extends the stored one.",
        "required": [
          "tag"
        ],
        "properties": {
          "tag": {
            "$ref": "#/components/schemas/DataflowTag"
          },
          "transformations": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/TransformationSpec"
            }
          }
        },
        "examples": [
          {
            "tag": "alexnet",
            "transformations": [
              {
                "tag": "trainingmodel",
                "programs": [
                  {
                    "name": "train.py",
                    "path": "/home/me/alexnet"
                  }
                ],
                "sets": [
                  {
                    "tag": "itrainingmodel",
                    "type": "INPUT",
                    "attributes": [
                      {
                        "name": "OPTIMIZER_NAME",
                        "type": "TEXT"
                      },
                      {
                        "name": "LEARNING_RATE",
                        "type": "NUMERIC"
                      }
                    ]
                  },
                  {
                    "tag": "otrainingmodel",
                    "type": "OUTPUT",
                    "attributes": [
                      {
                        "name": "LOSS",
                        "type": "NUMERIC"
                      },
                      {
                        "name": "EPOCH",
                        "type": "NUMERIC"
                      }
                    ]
                  }
                ]
              }
            ]
          }
        ]
      },
      "Registration": {
        "type": "object",
        "required": [
          "id",
          "tag",
          "version",
          "changed"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "tag": {
            "type": "string"
          },
          "version": {
            "type": "integer",
            "description": "Grows when the specification changes."
          },
          "changed": {
            "type": "boolean",
            "description": "Whether the registration created or extended anything."
          }
        }
      },
      "LenientString": {
        "type": [
          "string",
          "number",
          "boolean"
        ],
        "description": "A string; numbers and booleans are accepted and turned into text."
      },
      "Value": {
        "type": [
          "number",
          "string",
          "boolean",
          "null"
        ],
        "description": "An attribute value. NUMERIC attributes take numbers or strings holding one (also \"NaN\", \"Infinity\", \"-Infinity\"); TEXT attributes take strings (numbers become text)."
      },
      "TaskStatus": {
        "type": "string",
        "enum": [
          "READY",
          "RUNNING",
          "FINISHED",
          "FINISHED_WITH_ERROR",
          "FAILED"
        ],
        "description": "Case-insensitive."
      },
      "TaskRef": {
        "type": "object",
        "required": [
          "transformation",
          "task"
        ],
        "properties": {
          "transformation": {
            "type": "string"
          },
          "task": {
            "$ref": "#/components/schemas/LenientString"
          }
        }
      },
      "FileRef": {
        "type": "object",
        "required": [
          "name",
          "path"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "path": {
            "type": "string"
          }
        }
      },
      "ElementSet": {
        "type": "object",
        "required": [
          "tag"
        ],
        "properties": {
          "tag": {
            "type": "string"
          },
          "attributes": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "type": "string"
            },
            "description": "The attributes the values of each row are for, in order (the others are stored as null). Without it, each row has one value per attribute of the set, in attribute order."
          },
          "elements": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "type": "array",
              "items": {
                "$ref": "#/components/schemas/Value"
              }
            },
            "description": "Rows."
          }
        }
      },
      "ExecutionInfo": {
        "type": "object",
        "properties": {
          "user": {
            "type": [
              "string",
              "null"
            ]
          },
          "host": {
            "type": [
              "string",
              "null"
            ]
          },
          "script": {
            "type": [
              "string",
              "null"
            ]
          },
          "email": {
            "type": [
              "string",
              "null"
            ]
          },
          "hardware": {
            "description": "Any JSON value (kept as its JSON text), or a string."
          }
        }
      },
      "BatchEvent": {
        "type": "object",
        "required": [
          "dataflow",
          "transformation",
          "task"
        ],
        "properties": {
          "key": {
            "type": [
              "string",
              "number",
              "boolean",
              "null"
            ],
            "description": "Idempotency key, unique per event: an event whose key is already stored is skipped; the same key with different content is a conflict (409)."
          },
          "dataflow": {
            "type": "string"
          },
          "execution": {
            "type": [
              "string",
              "number",
              "boolean",
              "null"
            ],
            "description": "One run of the script; created on first use."
          },
          "transformation": {
            "type": "string"
          },
          "task": {
            "$ref": "#/components/schemas/LenientString"
          },
          "status": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/TaskStatus"
              },
              {
                "type": "null"
              }
            ],
            "default": "RUNNING"
          },
          "time": {
            "type": [
              "number",
              "null"
            ],
            "minimum": 0,
            "maximum": 253402300799,
            "description": "Client clock, seconds since 1970."
          },
          "dependencies": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "$ref": "#/components/schemas/TaskRef"
            }
          },
          "sets": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "$ref": "#/components/schemas/ElementSet"
            }
          },
          "files": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "$ref": "#/components/schemas/FileRef"
            }
          },
          "execution_info": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/ExecutionInfo"
              },
              {
                "type": "null"
              }
            ]
          },
          "error": {
            "type": [
              "string",
              "null"
            ]
          },
          "output": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "BatchRequest": {
        "type": "object",
        "required": [
          "events"
        ],
        "properties": {
          "events": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/BatchEvent"
            }
          }
        },
        "examples": [
          {
            "events": [
              {
                "key": "3f1c9a-000017",
                "dataflow": "alexnet",
                "execution": "alexnet-run-1",
                "transformation": "trainingmodel",
                "task": "1",
                "status": "RUNNING",
                "time": 1764061200.123,
                "sets": [
                  {
                    "tag": "otrainingmodel",
                    "elements": [
                      [
                        2.31,
                        1
                      ],
                      [
                        1.97,
                        2
                      ]
                    ]
                  }
                ]
              }
            ]
          }
        ]
      },
      "IngestResult": {
        "type": "object",
        "required": [
          "stored",
          "duplicates",
          "rows",
          "resentRows",
          "warnings"
        ],
        "properties": {
          "stored": {
            "type": "integer",
            "description": "Events stored."
          },
          "duplicates": {
            "type": "integer",
            "description": "Events skipped: their idempotency key was already stored."
          },
          "rows": {
            "type": "integer",
            "description": "Rows added."
          },
          "resentRows": {
            "type": "integer",
            "description": "Rows a task sent again (DfAnalyzer endpoints), not added twice."
          },
          "warnings": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        }
      },
      "DfaTaskMessage": {
        "type": "object",
        "description": "A DfAnalyzer task message (client variants A, B and C).",
        "required": [
          "id",
          "dataflow",
          "transformation"
        ],
        "properties": {
          "id": {
            "$ref": "#/components/schemas/LenientString"
          },
          "dataflow": {
            "type": "string"
          },
          "transformation": {
            "type": "string"
          },
          "status": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/TaskStatus"
              },
              {
                "type": "null"
              }
            ]
          },
          "exec": {
            "type": [
              "string",
              "number",
              "boolean",
              "null"
            ]
          },
          "sets": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "type": "object",
              "required": [
                "tag"
              ],
              "properties": {
                "tag": {
                  "type": "string"
                },
                "elements": {
                  "type": [
                    "array",
                    "null"
                  ],
                  "items": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Value"
                    }
                  }
                }
              }
            }
          },
          "dependency": {
            "type": [
              "object",
              "null"
            ],
            "properties": {
              "tags": {
                "type": [
                  "array",
                  "null"
                ],
                "items": {
                  "type": "object",
                  "required": [
                    "tag"
                  ],
                  "properties": {
                    "tag": {
                      "type": "string"
                    }
                  }
                }
              },
              "ids": {
                "type": [
                  "array",
                  "null"
                ],
                "items": {
                  "type": "object",
                  "required": [
                    "id"
                  ],
                  "properties": {
                    "id": {
                      "$ref": "#/components/schemas/LenientString"
                    }
                  }
                }
              }
            }
          },
          "performances": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "type": "object",
              "properties": {
                "startTime": {
                  "type": [
                    "string",
                    "null"
                  ]
                },
                "endTime": {
                  "type": [
                    "string",
                    "null"
                  ]
                }
              }
            }
          },
          "files": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "$ref": "#/components/schemas/FileRef"
            }
          },
          "email": {
            "type": [
              "string",
              "null"
            ]
          },
          "hardware": {
            "description": "Any JSON value (kept as its JSON text), or a string."
          },
          "workspace": {
            "type": [
              "string",
              "null"
            ]
          },
          "resource": {
            "type": [
              "string",
              "null"
            ]
          },
          "output": {
            "type": [
              "string",
              "null"
            ]
          },
          "error": {
            "type": [
              "string",
              "null"
            ]
          }
        },
        "examples": [
          {
            "id": "1",
            "dataflow": "alexnet",
            "transformation": "trainingmodel",
            "status": "RUNNING",
            "sets": [
              {
                "tag": "otrainingmodel",
                "elements": [
                  [
                    "2.31",
                    "1"
                  ]
                ]
              }
            ]
          }
        ]
      },
      "DataflowSummary": {
        "type": "object",
        "required": [
          "id",
          "tag",
          "version",
          "transformations",
          "executions"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "tag": {
            "type": "string"
          },
          "version": {
            "type": "integer"
          },
          "transformations": {
            "type": "integer"
          },
          "executions": {
            "type": "integer"
          }
        }
      },
      "AttributeOut": {
        "type": "object",
        "required": [
          "name",
          "type"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "type": {
            "type": "string"
          }
        }
      },
      "Specification": {
        "type": "object",
        "description": "The dataflow's specification as it stands (all registrations merged).",
        "required": [
          "tag",
          "transformations"
        ],
        "properties": {
          "tag": {
            "type": "string"
          },
          "transformations": {
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "tag",
                "sets"
              ],
              "properties": {
                "tag": {
                  "type": "string"
                },
                "programs": {
                  "type": "array",
                  "items": {
                    "type": "object",
                    "properties": {
                      "name": {
                        "type": "string"
                      },
                      "path": {
                        "type": "string"
                      }
                    }
                  }
                },
                "sets": {
                  "type": "array",
                  "items": {
                    "type": "object",
                    "required": [
                      "tag",
                      "type",
                      "attributes"
                    ],
                    "properties": {
                      "tag": {
                        "type": "string"
                      },
                      "type": {
                        "type": "string",
                        "enum": [
                          "INPUT",
                          "OUTPUT"
                        ]
                      },
                      "dependency": {
                        "type": "string"
                      },
                      "attributes": {
                        "type": "array",
                        "items": {
                          "$ref": "#/components/schemas/AttributeOut"
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      },
      "SetSummary": {
        "type": "object",
        "required": [
          "id",
          "tag",
          "table",
          "attributes",
          "producers",
          "consumers"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "tag": {
            "type": "string"
          },
          "table": {
            "type": "string",
            "description": "The table's name in queries."
          },
          "attributes": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/AttributeOut"
            }
          },
          "producers": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "consumers": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        }
      },
      "ExecutionSummary": {
        "type": "object",
        "required": [
          "id",
          "tag",
          "status",
          "tasks"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "tag": {
            "type": "string"
          },
          "start_time": {
            "type": [
              "string",
              "null"
            ]
          },
          "end_time": {
            "type": [
              "string",
              "null"
            ]
          },
          "status": {
            "type": "string",
            "description": "RUNNING while any task runs; FAILED if any task failed; FINISHED otherwise."
          },
          "tasks": {
            "type": "integer"
          },
          "user": {
            "type": [
              "string",
              "null"
            ]
          },
          "host": {
            "type": [
              "string",
              "null"
            ]
          },
          "script": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "TaskSummary": {
        "type": "object",
        "required": [
          "id",
          "identifier",
          "transformation",
          "execution",
          "status",
          "dependencies"
        ],
        "properties": {
          "id": {
            "type": "integer",
            "description": "The stored task id."
          },
          "identifier": {
            "type": "string",
            "description": "The client's task identifier."
          },
          "transformation": {
            "type": "string"
          },
          "execution": {
            "type": "string"
          },
          "status": {
            "type": "string"
          },
          "start_time": {
            "type": [
              "string",
              "null"
            ]
          },
          "end_time": {
            "type": [
              "string",
              "null"
            ]
          },
          "dependencies": {
            "type": "array",
            "items": {
              "type": "integer"
            }
          },
          "error": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "QueryValue": {
        "type": [
          "integer",
          "number",
          "string",
          "null"
        ],
        "description": "A cell. Non-finite numbers are the strings \"NaN\", \"Infinity\", \"-Infinity\"; blobs are base64."
      },
      "QueryResult": {
        "type": "object",
        "required": [
          "columns",
          "rows",
          "truncated",
          "elapsed_ms"
        ],
        "properties": {
          "columns": {
            "type": "array",
            "items": {
              "type": "object",
              "required": [
                "name",
                "type"
              ],
              "properties": {
                "name": {
                  "type": "string"
                },
                "type": {
                  "type": "string",
                  "description": "INTEGER, REAL, TEXT, BLOB, or NULL when every value is null."
                }
              }
            }
          },
          "rows": {
            "type": "array",
            "items": {
              "type": "array",
              "items": {
                "$ref": "#/components/schemas/QueryValue"
              }
            }
          },
          "truncated": {
            "type": "boolean",
            "description": "More rows matched than a limit allowed."
          },
          "elapsed_ms": {
            "type": "number"
          },
          "limit": {
            "type": [
              "string",
              "null"
            ],
            "enum": [
              "rows",
              "bytes",
              null
            ],
            "description": "Which limit cut the result, when truncated."
          }
        }
      },
      "QueryRequest": {
        "type": "object",
        "required": [
          "sql"
        ],
        "properties": {
          "sql": {
            "type": "string",
            "description": "One read-only statement: SELECT, WITH, VALUES, EXPLAIN, or a reading PRAGMA."
          },
          "dataflow": {
            "type": [
              "string",
              "null"
            ],
            "description": "Its tables answer to their unqualified names."
          },
          "limit": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "default": 10000,
            "description": "Most rows returned."
          },
          "timeout_ms": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "maximum": 300000,
            "default": 10000
          }
        },
        "examples": [
          {
            "sql": "select epoch, loss from ds_otrainingmodel",
            "dataflow": "alexnet",
            "limit": 100
          }
        ]
      },
      "DfQueryRequest": {
        "type": "object",
        "required": [
          "query"
        ],
        "properties": {
          "query": {
            "type": "string",
            "description": "The query in DfAnalyzer's query language, one clause per line."
          },
          "limit": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "default": 10000,
            "description": "Most rows returned."
          },
          "run": {
            "type": "boolean",
            "default": true,
            "description": "false: answer the generated SQL only (`result` is null)."
          },
          "timeout_ms": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 1,
            "maximum": 300000,
            "default": 10000
          }
        },
        "examples": [
          {
            "query": "mapping(physical)\nsource(itrainingmodel)\ntarget(otrainingmodel)\nprojection(itrainingmodel.optimizer_name;otrainingmodel.epoch;otrainingmodel.loss)\nselection(otrainingmodel.loss < 0.5)",
            "limit": 1000,
            "run": true
          }
        ]
      },
      "DfQueryAnswer": {
        "type": "object",
        "required": [
          "sql",
          "result"
        ],
        "properties": {
          "sql": {
            "type": "string",
            "description": "The generated statement over the dataflow's ds_<set> tables, one join per line; it runs as is through POST /api/v1/query with the dataflow chosen."
          },
          "result": {
            "oneOf": [
              {
                "$ref": "#/components/schemas/QueryResult"
              },
              {
                "type": "null"
              }
            ]
          }
        }
      },
      "DfaDataflowListEntry": {
        "type": "object",
        "required": [
          "id",
          "tag"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "tag": {
            "type": "string"
          }
        }
      },
      "DfaGraph": {
        "type": "object",
        "description": "The dataflow graph for a viewer: sets are nodes, each transformation an edge from each of its inputs to each of its outputs.",
        "required": [
          "graph",
          "allAttrsMap"
        ],
        "properties": {
          "graph": {
            "type": "object",
            "required": [
              "nodes",
              "edges"
            ],
            "properties": {
              "nodes": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [
                    "id",
                    "label"
                  ],
                  "properties": {
                    "id": {
                      "type": "integer"
                    },
                    "label": {
                      "type": "string"
                    },
                    "shape": {
                      "type": "string"
                    },
                    "title": {
                      "type": "string"
                    },
                    "color": {
                      "type": "string",
                      "description": "Input datasets only (consumed, produced by no transformation)."
                    }
                  }
                }
              },
              "edges": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": [
                    "from",
                    "to"
                  ],
                  "properties": {
                    "from": {
                      "type": "integer"
                    },
                    "to": {
                      "type": "integer"
                    },
                    "arrows": {
                      "type": "string"
                    },
                    "label": {
                      "type": "string"
                    }
                  }
                }
              }
            }
          },
          "allAttrsMap": {
            "type": "object",
            "description": "Keyed by set id.",
            "additionalProperties": {
              "type": "object",
              "required": [
                "name",
                "atts"
              ],
              "properties": {
                "name": {
                  "type": "string"
                },
                "atts": {
                  "type": "array",
                  "items": {
                    "$ref": "#/components/schemas/AttributeOut"
                  }
                }
              }
            }
          }
        }
      },
      "Role": {
        "type": "string",
        "enum": [
          "reader",
          "writer",
          "admin"
        ]
      },
      "TokenRequest": {
        "type": "object",
        "required": [
          "role"
        ],
        "properties": {
          "role": {
            "$ref": "#/components/schemas/Role"
          },
          "dataflows": {
            "type": [
              "array",
              "null"
            ],
            "items": {
              "$ref": "#/components/schemas/DataflowTag"
            },
            "description": "The dataflows the token may reach; all when absent."
          },
          "name": {
            "type": [
              "string",
              "null"
            ],
            "description": "At most 200 bytes; `<role> token` when absent."
          }
        },
        "examples": [
          {
            "role": "reader",
            "dataflows": [
              "alexnet"
            ],
            "name": "dashboard"
          }
        ]
      },
      "Token": {
        "type": "object",
        "description": "A token as listed: everything but its secret.",
        "required": [
          "id",
          "name",
          "role",
          "created_at"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "name": {
            "type": "string"
          },
          "role": {
            "$ref": "#/components/schemas/Role"
          },
          "dataflows": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "The dataflows it may reach; all when absent."
          },
          "created_at": {
            "type": "string"
          },
          "revoked_at": {
            "type": "string",
            "description": "Present once the token is revoked."
          }
        }
      },
      "TokenCreated": {
        "type": "object",
        "required": [
          "token",
          "secret"
        ],
        "properties": {
          "token": {
            "$ref": "#/components/schemas/Token"
          },
          "secret": {
            "type": "string",
            "pattern": "^dnp_",
            "description": "Shown only in this answer; the server keeps its SHA-256."
          }
        }
      }
    },
    "responses": {
      "BadRequest": {
        "description": "Malformed input: bad JSON, a missing field, a bad identifier or parameter.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "No token, or an unknown or revoked one, where authentication is on.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "headers": {
          "WWW-Authenticate": {
            "schema": {
              "type": "string"
            },
            "description": "`Bearer`"
          }
        }
      },
      "Forbidden": {
        "description": "The token's role is too low or the dataflow is outside its scope, or a cross-origin request (an `Origin` that is not the server's own).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotFound": {
        "description": "An unknown dataflow, transformation, set, execution or token.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Timeout": {
        "description": "The query ran past its time limit.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Conflict": {
        "description": "Contradicts what is stored (an attribute changing type, an idempotency key sent again with different content).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooLarge": {
        "description": "Over a limit: the body size, events per batch, rows per request, a value's length, or the result size.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unprocessable": {
        "description": "Values that do not fit the schema (a row too long, a non-number for NUMERIC), or over the attributes-per-set limit.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "TooMany": {
        "description": "The server is busy; send again after `Retry-After` seconds.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        },
        "headers": {
          "Retry-After": {
            "schema": {
              "type": "integer",
              "minimum": 0
            },
            "description": "Seconds to wait."
          }
        }
      },
      "Unavailable": {
        "description": "The server cannot serve this now (the web UI's files were not found: see --ui-dir).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Internal": {
        "description": "A server fault: `internal error (incident <id>); the server log has the details`.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "parameters": {
      "tag": {
        "name": "tag",
        "in": "path",
        "required": true,
        "description": "A dataflow tag (case-insensitive).",
        "schema": {
          "type": "string"
        },
        "example": "alexnet"
      },
      "set": {
        "name": "set",
        "in": "path",
        "required": true,
        "description": "A set tag (case-insensitive).",
        "schema": {
          "type": "string"
        },
        "example": "otrainingmodel"
      },
      "dfaId": {
        "name": "id",
        "in": "path",
        "required": true,
        "description": "A dataflow id, or its tag.",
        "schema": {
          "type": "string"
        },
        "example": "1"
      },
      "tokenId": {
        "name": "id",
        "in": "path",
        "required": true,
        "schema": {
          "type": "integer"
        }
      },
      "pathToken": {
        "name": "token",
        "in": "path",
        "required": true,
        "description": "A token's secret, for DfAnalyzer clients that cannot send headers (`DFA_URL=http://host:22000/t/<secret>/`).",
        "schema": {
          "type": "string"
        }
      },
      "execution": {
        "name": "execution",
        "in": "query",
        "required": false,
        "description": "An execution's tag.",
        "schema": {
          "type": "string"
        }
      },
      "task": {
        "name": "task",
        "in": "query",
        "required": false,
        "description": "A stored task id.",
        "schema": {
          "type": "integer"
        }
      },
      "after": {
        "name": "after",
        "in": "query",
        "required": false,
        "description": "Only rows with an id above this (live polling).",
        "schema": {
          "type": "integer"
        }
      },
      "limit": {
        "name": "limit",
        "in": "query",
        "required": false,
        "schema": {
          "type": "integer",
          "minimum": 0,
          "default": 1000
        }
      },
      "offset": {
        "name": "offset",
        "in": "query",
        "required": false,
        "schema": {
          "type": "integer",
          "minimum": 0,
          "default": 0
        }
      }
    }
  }
}
"""#
}
