import { CreateMappingConfigRequest, MappingConfigSchema, UpdateMappingConfigRequest } from "../schemas/mapping-configs";
import { mappingConfigUseCases } from "../services/mapping-configs";
import { crudRouter, listSchema } from "./platform-crud";

/** `/v1/mapping-configs` (docs/platform.md): what `mapping_config` of map-entity and cart-checkout names. */
export const mappingConfigsRouter = crudRouter({
  noun: "mapping config",
  op: "MappingConfig",
  tag: "Mapping configs",
  idName: "mapping_config_id",
  view: MappingConfigSchema,
  list: listSchema(MappingConfigSchema, "MappingConfigList"),
  create: CreateMappingConfigRequest,
  update: UpdateMappingConfigRequest,
  useCases: mappingConfigUseCases,
  notes: "A change of source_schema or targets increments the version",
});
