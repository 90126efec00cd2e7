package com.example.wallet;

import io.sticky.api.EntityType;
import io.sticky.api.EntityTypeOptions;
import io.sticky.spi.EntityTypeProvider;
import java.util.List;

/** Named in META-INF/services/io.sticky.spi.EntityTypeProvider: how a stock node finds the wallet type. */
public class WalletTypes implements EntityTypeProvider {
  @Override
  public List<EntityType> entityTypes() {
    return List.of(EntityType.of(WalletEntity.TYPE, WalletEntity::new, new EntityTypeOptions().setNumberOfShards(100)));
  }
}
